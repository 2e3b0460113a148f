/**
 * Random access into an age file: once the header is read and the file key unwrapped, the
 * payload is STREAM chunks of a fixed size, so plaintext byte x is in chunk ⌊x / 64 KiB⌋, stored
 * at payloadStart + chunk × (64 KiB + 16). Each chunk is opened on its own, with its counter
 * and, for the file's last chunk, the final flag: any chunk authenticates alone, so a restore
 * reads only the chunks that hold what it needs, and a damaged chunk spoils nothing else.
 */
import { IntegrityError } from '../../errors.ts';
import { unwrapFileKey } from './decrypt.ts';
import { verifyHeaderMac } from './header.ts';
import { createHeaderReader } from './header-reader.ts';
import type { AgeIdentity } from './keys.ts';
import { aeadOpen } from './primitives.ts';
import {
  authFailed,
  CHUNK_SIZE,
  PAYLOAD_NONCE_SIZE,
  payloadKey,
  SEALED_CHUNK_SIZE,
  SealedChunks,
  setChunkNonce,
} from './stream.ts';

export interface AgePayload {
  /** Stored offset of the first sealed chunk (after the header and the payload nonce). */
  start: number;
  key: Buffer;
  /** Sealed chunks in the file. */
  chunks: number;
}

/**
 * The payload of an age file of `size` bytes whose first bytes are `head`; undefined when `head`
 * ends before the header and the payload nonce do (read more and call again).
 */
export function agePayload(head: Buffer, size: number, identities: AgeIdentity[]): AgePayload | undefined {
  const reader = createHeaderReader();
  const done = reader.push(head);
  if (!done) {
    if (head.length >= size) reader.end();
    return undefined;
  }
  if (done.rest.length < PAYLOAD_NONCE_SIZE) {
    if (head.length >= size) throw new IntegrityError('age file is truncated: the payload nonce is missing');
    return undefined;
  }
  const fileKey = unwrapFileKey(done.header, identities);
  verifyHeaderMac(done.header, fileKey);
  const start = head.length - done.rest.length + PAYLOAD_NONCE_SIZE;
  const payload = size - start;
  if (payload <= 0)
    throw new IntegrityError('age payload is truncated: there are no chunks after the header');
  const key = payloadKey(fileKey, done.rest.subarray(0, PAYLOAD_NONCE_SIZE));
  return { start, key, chunks: Math.ceil(payload / SEALED_CHUNK_SIZE) };
}

/** The chunk holding plaintext byte `x`, and where it is stored. */
export function chunkAt(p: AgePayload, x: number): { chunk: number; stored: number; skip: number } {
  const chunk = Math.floor(x / CHUNK_SIZE);
  return { chunk, stored: p.start + chunk * SEALED_CHUNK_SIZE, skip: x - chunk * CHUNK_SIZE };
}

/**
 * Opens sealed chunks from chunk `first` on, as their bytes arrive: `update` returns the
 * plaintext of every chunk completed (each only once it authenticated).
 */
export function createChunkOpener(
  p: AgePayload,
  first: number,
): { update(sealed: Buffer): Buffer[]; final(): Buffer[] } {
  const nonce = Buffer.alloc(12);
  const chunks = new SealedChunks();
  let counter = first;
  const open = (sealed: Buffer): Buffer => {
    if (counter >= p.chunks)
      throw new IntegrityError(`age payload has data after its final chunk ${p.chunks - 1}`);
    setChunkNonce(nonce, counter, counter === p.chunks - 1);
    const pt = aeadOpen(p.key, nonce, sealed);
    if (!pt) throw authFailed(counter, 'corrupted or was tampered with');
    counter++;
    return pt;
  };
  return {
    update(data) {
      const out: Buffer[] = [];
      chunks.push(data, (sealed) => out.push(open(sealed)));
      return out;
    },
    final() {
      if (chunks.fill === 0) return [];
      if (counter !== p.chunks - 1)
        throw new IntegrityError(`age payload is truncated inside chunk ${counter}`);
      const last = open(chunks.rest);
      chunks.fill = 0;
      return [last];
    },
  };
}
