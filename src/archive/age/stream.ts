import { createCipheriv } from 'node:crypto';
import { IntegrityError } from '../../errors.ts';
import { aeadOpen, hkdf, TAG_SIZE } from './primitives.ts';

/**
 * The age payload: STREAM over ChaCha20-Poly1305 in 64 KiB chunks. The 12-byte chunk nonce is an
 * 11-byte big-endian counter and a final-chunk flag byte. Only the last chunk may be short; it may
 * be empty only when the whole payload is.
 */
export const CHUNK_SIZE = 64 * 1024;
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
/** The random nonce written after the header; it salts the payload key. */
export const PAYLOAD_NONCE_SIZE = 16;

export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return hkdf(fileKey, nonce, 'payload');
}

export function setChunkNonce(nonce: Buffer, counter: number, last: boolean): void {
  // Bytes 0-2 of the 88-bit counter stay zero: 2^53 chunks is 512 ZiB.
  nonce.writeUInt32BE(Math.floor(counter / 2 ** 32), 3);
  nonce.writeUInt32BE(counter >>> 0, 7);
  nonce[11] = last ? 1 : 0;
}

/** Incremental STREAM encryption or decryption; output goes to the `emit` callback. */
export interface PayloadProcessor {
  update(data: Buffer): void;
  /** End of input: seals the final chunk, or checks the stream ended properly. */
  final(): void;
}

/** Encrypts plaintext into sealed chunks. Memory: one 64 KiB buffer. */
export function createPayloadSealer(key: Buffer, emit: (b: Buffer) => void): PayloadProcessor {
  const buf = Buffer.allocUnsafe(CHUNK_SIZE);
  const nonce = Buffer.alloc(12);
  let fill = 0;
  let counter = 0;
  const seal = (chunk: Buffer, last: boolean) => {
    setChunkNonce(nonce, counter++, last);
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
    const ct = cipher.update(chunk);
    cipher.final();
    if (ct.length > 0) emit(ct);
    emit(cipher.getAuthTag());
  };
  return {
    update(data) {
      let off = 0;
      while (off < data.length) {
        // A full chunk is sealed as non-final only once more plaintext is known to follow.
        if (fill === CHUNK_SIZE) {
          seal(buf, false);
          fill = 0;
        }
        if (fill === 0 && data.length - off > CHUNK_SIZE) {
          seal(data.subarray(off, off + CHUNK_SIZE), false);
          off += CHUNK_SIZE;
          continue;
        }
        const n = data.copy(buf, fill, off, Math.min(data.length, off + CHUNK_SIZE - fill));
        fill += n;
        off += n;
      }
    },
    final() {
      seal(buf.subarray(0, fill), true);
      fill = 0;
    },
  };
}

/**
 * Decrypts sealed chunks, emitting each chunk's plaintext only after it authenticated. Throws
 * IntegrityError on a bad chunk, a missing final chunk, or data after the final chunk.
 */
export function createPayloadOpener(key: Buffer, emit: (b: Buffer) => void): PayloadProcessor {
  const chunks = new SealedChunks();
  const nonce = Buffer.alloc(12);
  let counter = 0;
  let done = false;
  const open = (sealed: Buffer, last: boolean) => {
    setChunkNonce(nonce, counter, last);
    return aeadOpen(key, nonce, sealed);
  };
  const openFull = (sealed: Buffer) => {
    // A full chunk is normally not the last one, but the final chunk may be full too.
    let pt = open(sealed, false);
    if (!pt) {
      pt = open(sealed, true);
      if (!pt) throw authFailed(counter, 'corrupted or was tampered with');
      done = true;
    }
    counter++;
    emit(pt);
  };
  return {
    update(data) {
      chunks.push(data, openFull, () => {
        if (done)
          throw new IntegrityError(
            `age payload has unexpected data after the final chunk (chunk ${counter - 1}): the object is corrupted`,
          );
      });
    },
    final() {
      if (done) return;
      const fill = chunks.fill;
      if (fill === 0)
        throw new IntegrityError(
          counter === 0
            ? 'age payload is truncated: there are no chunks after the header'
            : `age payload is truncated: the stream ended after chunk ${counter - 1} without a final chunk`,
        );
      if (fill < TAG_SIZE)
        throw new IntegrityError(`age payload is truncated: the stream ends inside chunk ${counter}`);
      const pt = open(chunks.rest, true);
      if (!pt) throw authFailed(counter, 'truncated, corrupted or was tampered with');
      if (pt.length === 0 && counter > 0)
        throw new IntegrityError(`age payload is malformed: the final chunk ${counter} is empty`);
      done = true;
      counter++;
      if (pt.length > 0) emit(pt);
    },
  };
}

/** Cuts incoming bytes into whole sealed chunks; a partial one waits in `rest` for the next bytes. */
export class SealedChunks {
  readonly #buf = Buffer.allocUnsafe(SEALED_CHUNK_SIZE);
  fill = 0;

  get rest(): Buffer {
    return this.#buf.subarray(0, this.fill);
  }

  /** Calls `each` with every chunk completed by `data` (views: valid during the call), `check` before each step. */
  push(data: Buffer, each: (sealed: Buffer) => void, check?: () => void): void {
    let off = 0;
    while (off < data.length) {
      check?.();
      if (this.fill === 0 && data.length - off >= SEALED_CHUNK_SIZE) {
        each(data.subarray(off, off + SEALED_CHUNK_SIZE));
        off += SEALED_CHUNK_SIZE;
        continue;
      }
      const n = data.copy(
        this.#buf,
        this.fill,
        off,
        Math.min(data.length, off + SEALED_CHUNK_SIZE - this.fill),
      );
      this.fill += n;
      off += n;
      if (this.fill === SEALED_CHUNK_SIZE) {
        this.fill = 0;
        each(this.#buf);
      }
    }
  }
}

export function authFailed(chunk: number, what: string): IntegrityError {
  return new IntegrityError(
    `age payload authentication failed at chunk ${chunk} (plaintext offset ${chunk * CHUNK_SIZE}): the object is ${what}`,
  );
}
