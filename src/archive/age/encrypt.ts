import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { UsageError } from '../../errors.ts';
import { formatHeader } from './header.ts';
import { parseRecipient } from './keys.ts';
import { createPayloadSealer, PAYLOAD_NONCE_SIZE, payloadKey, SEALED_CHUNK_SIZE } from './stream.ts';
import { FILE_KEY_SIZE, wrapX25519 } from './x25519.ts';

/** The header and payload nonce of a new age file, plus the key for its payload. */
export function createAgeHeader(recipients: string[]): { prefix: Buffer; key: Buffer } {
  if (recipients.length === 0) throw new UsageError('age encryption needs at least one recipient');
  const parsed = recipients.map(parseRecipient);
  const fileKey = randomBytes(FILE_KEY_SIZE);
  const header = formatHeader(
    parsed.map((r) => wrapX25519(r, fileKey)),
    fileKey,
  );
  const nonce = randomBytes(PAYLOAD_NONCE_SIZE);
  return { prefix: Buffer.concat([header, nonce]), key: payloadKey(fileKey, nonce) };
}

/**
 * Encrypts a byte stream to age X25519 recipients (`age1…`). The output is a complete age v1
 * file that `age -d` decrypts; an empty input still yields a valid file. Memory is bounded (one
 * 64 KiB chunk plus stream buffers). Bad recipients throw UsageError here, before any output.
 */
export function createEncryptStream(recipients: string[]): Transform {
  const { prefix, key } = createAgeHeader(recipients);
  let started = false;
  let sealer: ReturnType<typeof createPayloadSealer>;
  const start = (t: Transform) => {
    if (started) return;
    started = true;
    t.push(prefix);
    sealer = createPayloadSealer(key, (b) => t.push(b));
  };
  return new Transform({
    readableHighWaterMark: 4 * SEALED_CHUNK_SIZE,
    writableHighWaterMark: 4 * SEALED_CHUNK_SIZE,
    transform(chunk: Buffer, _enc, cb) {
      try {
        start(this);
        sealer.update(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        start(this);
        sealer.final();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
