import type { Readable } from 'node:stream';

/** Keeps the last `max` bytes of a stream as text: enough for error messages, bounded for floods. */
export function collectTail(stream: Readable, max = 256 * 1024): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (c: Buffer) => {
    chunks.push(c);
    size += c.length;
    while (size > max && chunks.length > 1) size -= chunks.shift()!.length;
  });
  return () => Buffer.concat(chunks).toString('utf8').slice(-max);
}
