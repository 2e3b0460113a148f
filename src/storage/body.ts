import { createHash } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
import { noteStreamed } from '../archive/buffer-gc.ts';
import { CancelledError, IntegrityError, isAbortError } from '../errors.ts';
import type { PutOptions } from './storage.ts';

/**
 * The chunks of a put body, as Buffers. A Readable is destroyed when `signal` aborts (so a
 * producer waiting on backpressure, e.g. an SSH channel, is torn down too) and when the consumer
 * stops iterating early, which is what `for await` does on break/throw.
 */
export async function* bodyChunks(body: Readable | Buffer, signal?: AbortSignal): AsyncGenerator<Buffer> {
  if (signal?.aborted) {
    if (!Buffer.isBuffer(body)) body.destroy();
    throw new CancelledError();
  }
  if (Buffer.isBuffer(body)) {
    yield body;
    return;
  }
  if (signal) addAbortSignal(signal, body);
  for await (const chunk of body as AsyncIterable<unknown>) {
    if (Buffer.isBuffer(chunk)) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk);
    else if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else throw new TypeError('put body yielded a non-binary chunk');
  }
}

/** Running SHA-256 and byte count of the data accepted so far, reporting progress as it goes. */
export interface Meter {
  readonly bytes: number;
  add(chunk: Buffer): void;
  sha256(): string;
}

export function createMeter(onProgress?: (bytes: number) => void): Meter {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | undefined;
  return {
    get bytes() {
      return bytes;
    },
    add(chunk) {
      hash.update(chunk);
      bytes += chunk.length;
      noteStreamed(chunk.length);
      onProgress?.(bytes);
    },
    sha256: () => {
      digest ??= hash.digest('hex');
      return digest;
    },
  };
}

/**
 * Throws IntegrityError unless the bytes metered are `expect` (PutOptions.expect); called
 * before the object becomes visible, so a copy that differs from its manifest is never stored.
 */
export function checkExpected(meter: Meter, expect: PutOptions['expect'], where: string): void {
  if (!expect) return;
  if (meter.bytes !== expect.size || meter.sha256() !== expect.sha256) {
    throw new IntegrityError(
      `${where}: the bytes to store (${meter.bytes} bytes, SHA-256 ${meter.sha256()}) are not the ${expect.size} bytes with SHA-256 ${expect.sha256} the manifest records; nothing was stored`,
    );
  }
}

/**
 * An abort (reported by a stream or the SDK) becomes CancelledError; anything else passes, even
 * when `signal` fired meanwhile: a disk-full write that makes the caller abort everything must
 * still surface as the disk-full error. A stream closed early by that abort counts as one.
 */
export function cancelledOr(err: unknown, signal: AbortSignal | undefined): unknown {
  if (err instanceof CancelledError) return err;
  const closedByAbort = signal?.aborted && (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE';
  if (closedByAbort || isAbortError(err)) return new CancelledError();
  return err;
}

/** Passes chunks through, feeding each to the meter as it is taken. */
export async function* metered(chunks: AsyncIterable<Buffer>, meter: Meter): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    meter.add(chunk);
    yield chunk;
  }
}
