import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createCoalescer } from '../../../src/archive/coalesce.ts';

async function run(chunks: Buffer[], min: number): Promise<{ out: Buffer[]; seen: number }> {
  const out: Buffer[] = [];
  let seen = 0;
  await pipeline(
    Readable.from(chunks),
    createCoalescer(min, (n) => {
      seen += n;
    }),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return { out, seen };
}

describe('createCoalescer', () => {
  it('joins small chunks into ones of at least min bytes, keeping every byte in order', async () => {
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(3, i));
    const { out, seen } = await run(chunks, 8);
    expect(out.map((c) => c.length)).toEqual([9, 9, 9, 3]);
    expect(Buffer.concat(out)).toEqual(Buffer.concat(chunks));
    expect(seen).toBe(30);
  });
  it('passes large chunks through as they are', async () => {
    const big = Buffer.alloc(20, 1);
    const { out } = await run([big, Buffer.alloc(2, 2), Buffer.alloc(20, 3)], 8);
    expect(out[0]).toBe(big);
    expect(out.map((c) => c.length)).toEqual([20, 22]);
  });
  it('emits nothing for an empty stream', async () => {
    expect((await run([], 8)).out).toEqual([]);
  });
});
