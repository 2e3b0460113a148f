import { describe, expect, it } from 'vitest';
import {
  createPartReader,
  growingPartSize,
  MAX_PARTS,
  MIN_PART_SIZE,
  maxObjectSize,
  partScheduleFor,
} from '../../../src/storage/parts.ts';

const MiB = 1024 * 1024;

describe('growingPartSize', () => {
  const schedule = growingPartSize();

  it('starts at 5 MiB (the S3 minimum) and doubles every 1000 parts up to 256 MiB', () => {
    expect(schedule(1)).toBe(5 * MiB);
    expect(schedule(1000)).toBe(5 * MiB);
    expect(schedule(1001)).toBe(10 * MiB);
    expect(schedule(2001)).toBe(20 * MiB);
    expect(schedule(5001)).toBe(160 * MiB);
    expect(schedule(6001)).toBe(256 * MiB);
    expect(schedule(MAX_PARTS)).toBe(256 * MiB);
  });

  it('never goes below the S3 minimum and never shrinks', () => {
    for (let n = 2; n <= MAX_PARTS; n++) {
      expect(schedule(n)).toBeGreaterThanOrEqual(Math.max(MIN_PART_SIZE, schedule(n - 1)));
    }
  });

  it('holds a 1 TB archive in 10,000 parts (1,339,000 MiB at most)', () => {
    expect(maxObjectSize(schedule)).toBe(1_339_000 * MiB);
    expect(maxObjectSize(schedule)).toBeGreaterThan(1e12);
  });
});

async function* chunks(sizes: number[]): AsyncGenerator<Buffer> {
  let v = 0;
  for (const s of sizes) {
    const b = Buffer.alloc(s);
    for (let i = 0; i < s; i++) b[i] = v++ & 0xff;
    yield b;
  }
}

describe('createPartReader', () => {
  it('cuts uneven chunks into parts of the requested sizes, the last one short', async () => {
    const reader = createPartReader(chunks([3, 0, 7, 1, 10]), 2);
    const parts = [await reader.read(4), await reader.read(4), await reader.read(8), await reader.read(8)];
    expect(parts.map((p) => p.length)).toEqual([4, 4, 8, 5]);
    expect(Buffer.concat(parts)).toEqual(Buffer.from(Array.from({ length: 21 }, (_, i) => i)));
    expect((await reader.read(8)).length).toBe(0);
  });

  it('reuses released buffers of the same size', async () => {
    const reader = createPartReader(chunks([16, 16]), 2);
    const a = await reader.read(16);
    reader.release(a);
    const b = await reader.read(16);
    expect(b.buffer).toBe(a.buffer);
  });

  it('propagates a failing source', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(3);
      throw new Error('source broke');
    }
    const reader = createPartReader(failing(), 1);
    await expect(reader.read(10)).rejects.toThrow('source broke');
  });
});

describe('partScheduleFor: parts sized for a bounded upload (a volume)', () => {
  const largest = (s: (n: number) => number) =>
    Math.max(...Array.from({ length: MAX_PARTS }, (_, i) => s(i + 1)));
  it('keeps 5 MiB parts for a 4 GiB volume, the default', () => {
    expect(largest(partScheduleFor(4 * 1024 * MiB))).toBe(5 * MiB);
  });
  it('always fits the bound in 10,000 parts, with the smallest parts that do', () => {
    for (const gib of [1, 4, 48, 100, 500, 1024, 1300, 5 * 1024]) {
      const s = partScheduleFor(gib * 1024 * MiB);
      expect(maxObjectSize(s)).toBeGreaterThanOrEqual(gib * 1024 * MiB);
    }
    expect(largest(partScheduleFor(128 * 1024 * MiB))).toBe(20 * MiB);
    expect(largest(partScheduleFor(5 * 1024 * 1024 * MiB))).toBe(525 * MiB); // S3's 5 TiB object limit
  });
});
