import { Transform } from 'node:stream';
import { BoError, IntegrityError, UsageError } from '../../errors.ts';
import { type AgeHeader, headerError, verifyHeaderMac } from './header.ts';
import { createHeaderReader } from './header-reader.ts';
import { type AgeIdentity, parseIdentities } from './keys.ts';
import {
  createPayloadOpener,
  PAYLOAD_NONCE_SIZE,
  type PayloadProcessor,
  payloadKey,
  SEALED_CHUNK_SIZE,
} from './stream.ts';
import { unwrapX25519 } from './x25519.ts';

/** Finds the file key: the first stanza any identity opens. Stanzas of other types are skipped. */
export function unwrapFileKey(header: AgeHeader, identities: AgeIdentity[]): Buffer {
  const { stanzas } = header;
  if (stanzas.some((s) => s.type === 'scrypt') && stanzas.length !== 1)
    throw headerError('an scrypt stanza must be the only stanza in the header');
  for (const stanza of stanzas) {
    for (const id of identities) {
      const fileKey = unwrapX25519(id, stanza);
      if (fileKey) return fileKey;
    }
  }
  if (stanzas.length === 1 && stanzas[0]!.type === 'scrypt')
    throw new BoError('this age file is passphrase-encrypted (scrypt), which bo does not support');
  const n = stanzas.length;
  throw new BoError(
    `none of the given identities can decrypt this file (it is encrypted to ${n} recipient${n === 1 ? '' : 's'})`,
    { hint: 'use the identity file whose recipient (bo key recipient FILE) is listed in the manifest' },
  );
}

/**
 * Incremental age decryption: header (parsed as bytes arrive), file key, header MAC, payload
 * nonce, then STREAM chunks. Plaintext is emitted chunk by chunk, each only after it authenticated.
 */
export function createDecryptor(identities: AgeIdentity[], emit: (b: Buffer) => void): PayloadProcessor {
  const headerReader = createHeaderReader();
  let phase: 'header' | 'nonce' | 'payload' = 'header';
  let fileKey: Buffer | undefined;
  let nonceParts: Buffer[] = [];
  let nonceLength = 0;
  let opener: PayloadProcessor | undefined;
  const update = (data: Buffer): void => {
    if (phase === 'header') {
      const done = headerReader.push(data);
      if (!done) return;
      fileKey = unwrapFileKey(done.header, identities);
      verifyHeaderMac(done.header, fileKey);
      phase = 'nonce';
      data = done.rest;
    }
    if (phase === 'nonce') {
      const take = Math.min(PAYLOAD_NONCE_SIZE - nonceLength, data.length);
      nonceParts.push(Buffer.from(data.subarray(0, take)));
      nonceLength += take;
      data = data.subarray(take);
      if (nonceLength < PAYLOAD_NONCE_SIZE) return;
      opener = createPayloadOpener(payloadKey(fileKey!, Buffer.concat(nonceParts)), emit);
      nonceParts = [];
      phase = 'payload';
    }
    if (data.length > 0) opener!.update(data);
  };
  return {
    update,
    final() {
      if (phase === 'header') headerReader.end();
      if (phase === 'nonce') throw new IntegrityError('age file is truncated: the payload nonce is missing');
      opener!.final();
    },
  };
}

/**
 * Decrypts an age v1 file (X25519 recipients) as a stream. `identities` is a parsed list or the
 * text of an identity file. Errors: BoError when no identity matches; IntegrityError for a
 * malformed header, bad header MAC, failed chunk authentication, truncation or trailing data.
 */
export function createDecryptStream(identities: AgeIdentity[] | string): Transform {
  const ids = typeof identities === 'string' ? parseIdentities(identities) : identities;
  if (ids.length === 0) throw new UsageError('age decryption needs at least one identity');
  let decryptor: PayloadProcessor | undefined;
  return new Transform({
    readableHighWaterMark: 4 * SEALED_CHUNK_SIZE,
    writableHighWaterMark: 4 * SEALED_CHUNK_SIZE,
    transform(chunk: Buffer, _enc, cb) {
      try {
        decryptor ??= createDecryptor(ids, (b) => this.push(b));
        decryptor.update(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        decryptor ??= createDecryptor(ids, (b) => this.push(b));
        decryptor.final();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
