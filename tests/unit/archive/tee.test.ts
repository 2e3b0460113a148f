import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createTee } from '../../../src/archive/tee.ts';

function sink(delayMs: number): { stream: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      setTimeout(cb, delayMs);
    },
  });
  return { stream, chunks };
}

describe('createTee', () => {
  it('delivers every chunk to every destination in order, paced by the slowest', async () => {
    const a = sink(0);
    const b = sink(2);
    const data = Array.from({ length: 50 }, (_, i) => Buffer.from(`chunk-${i};`));
    await pipeline(Readable.from(data), createTee([a.stream, b.stream]));
    expect(Buffer.concat(a.chunks).toString()).toBe(Buffer.concat(data).toString());
    expect(Buffer.concat(b.chunks).toString()).toBe(Buffer.concat(data).toString());
  });

  it('fails when a destination fails', async () => {
    const bad = new Writable({ write: (_c, _e, cb) => cb(new Error('disk full')) });
    await expect(
      pipeline(Readable.from([Buffer.from('x')]), createTee([new PassThrough().resume(), bad])),
    ).rejects.toThrow('disk full');
  });
});
