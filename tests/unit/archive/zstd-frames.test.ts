import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createFramedCompressor } from '../../../src/archive/frames.ts';
import { createZstdFramesDecompressor, ZstdFramesDecoder } from '../../../src/archive/zstd-decompress.ts';
import { ZstdFrameScanner } from '../../../src/archive/zstd-frames.ts';
import { IntegrityError } from '../../../src/errors.ts';

function scan(stream: Buffer, step = stream.length): number[] {
  const starts: number[] = [];
  const s = new ZstdFrameScanner((o, kind) => {
    if (kind === 'data') starts.push(o);
  });
  for (let i = 0; i < stream.length; i += step) s.write(stream.subarray(i, i + step));
  s.end();
  return starts;
}

async function framed(data: Buffer, frameSize: number, pieces = 3): Promise<Buffer> {
  const out: Buffer[] = [];
  const step = Math.ceil(data.length / pieces);
  const parts = Array.from({ length: pieces }, (_, i) => data.subarray(i * step, (i + 1) * step));
  await pipeline(
    Readable.from(parts),
    createFramedCompressor(3, frameSize),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

const data = Buffer.concat([randomBytes(200_000), Buffer.alloc(300_000, 'ab'), randomBytes(24_288)]);

describe('ZstdFrameScanner', () => {
  it('finds every frame of concatenated frames, fed in any chunk size', () => {
    const a = zstdCompressSync(data.subarray(0, 100_000));
    const b = zstdCompressSync(data.subarray(100_000));
    const both = Buffer.concat([a, b]);
    for (const step of [1, 3, 4096, both.length]) expect(scan(both, step)).toEqual([0, a.length]);
  });

  it('steps over skippable frames without counting them', () => {
    const skip = Buffer.alloc(8 + 5);
    skip.writeUInt32LE(0x184d2a53, 0);
    skip.writeUInt32LE(5, 4);
    const a = zstdCompressSync(Buffer.from('hello'));
    expect(scan(Buffer.concat([skip, a, skip, a]))).toEqual([13, 13 + a.length + 13]);
  });

  it('refuses what is not a zstd stream, and a stream cut inside a frame', () => {
    expect(() => scan(Buffer.from('not zstd at all'))).toThrow(IntegrityError);
    const a = zstdCompressSync(data);
    expect(() => scan(a.subarray(0, a.length - 3))).toThrow(/truncated inside a frame/);
  });
});

describe('createFramedCompressor', () => {
  it('cuts the stream into independent frames of frameSize bytes, the last one shorter, never an empty one', async () => {
    for (const frameSize of [65_536, 100_000, data.length, 131_072]) {
      const out = await framed(data, frameSize);
      const starts = scan(out);
      expect(starts.length).toBe(Math.ceil(data.length / frameSize));
      starts.forEach((s, k) => {
        const alone = zstdDecompressSync(out.subarray(s, starts[k + 1] ?? out.length));
        expect(alone.equals(data.subarray(k * frameSize, (k + 1) * frameSize))).toBe(true);
      });
    }
  });
});

describe('createZstdFramesDecompressor', () => {
  async function decode(z: Buffer, step: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let i = 0; i < z.length; i += step) parts.push(z.subarray(i, i + step));
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(parts),
      createZstdFramesDecompressor(),
      new Writable({
        highWaterMark: 1024,
        write(c: Buffer, _e, cb) {
          out.push(c);
          setImmediate(cb); // a slow reader: backpressure reaches each frame's decompressor
        },
      }),
    );
    return Buffer.concat(out);
  }

  it('decodes every frame whatever the writes look like (node:zlib alone stops after the first: nodejs/node#64741)', async () => {
    const z = await framed(data, 100_000);
    for (const step of [61, 4095, 100_003, z.length]) expect((await decode(z, step)).equals(data)).toBe(true);
  });

  it('passes over skippable frames, and fails on a truncated frame', async () => {
    const skip = Buffer.alloc(12);
    skip.writeUInt32LE(0x184d2a50, 0);
    skip.writeUInt32LE(4, 4);
    const a = zstdCompressSync(Buffer.from('hello '));
    const b = zstdCompressSync(Buffer.from('world'));
    expect((await decode(Buffer.concat([a, skip, b]), 5)).toString()).toBe('hello world');
    await expect(decode(b.subarray(0, b.length - 2), 3)).rejects.toThrow(/truncated/);
  });
});

describe('createZstdFramesDecompressor with a reader slower than the frames', () => {
  it('never stalls at a frame boundary while the previous frame is still being read', async () => {
    const big = Buffer.concat([randomBytes(300_000), Buffer.alloc(2_000_000, 'z')]);
    const z = await framed(big, 65_536, 1);
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([z]),
      createZstdFramesDecompressor(),
      new Writable({
        highWaterMark: 16,
        write(c: Buffer, _e, cb) {
          out.push(c);
          setTimeout(cb, 1);
        },
      }),
    );
    expect(Buffer.concat(out).equals(big)).toBe(true);
  }, 20_000);
});

describe('ZstdFramesDecoder', () => {
  it('gives each chunk its output, and rejects (never hangs) on a frame that fails its checksum', async () => {
    const z = await framed(data, 100_000, 1);
    const d = new ZstdFramesDecoder();
    const out: Buffer[] = [];
    for (let i = 0; i < z.length; i += 7000) out.push(...(await d.push(z.subarray(i, i + 7000))));
    out.push(...(await d.end()));
    expect(Buffer.concat(out).equals(data)).toBe(true);

    const bad = Buffer.from(z);
    bad[150_000]! ^= 0x55; // random data is stored as is: only the frame's checksum can tell
    const d2 = new ZstdFramesDecoder();
    const run = async () => {
      for (let i = 0; i < bad.length; i += 7000) await d2.push(bad.subarray(i, i + 7000));
      await d2.end();
    };
    await expect(run()).rejects.toThrow(/checksum/);
  });
});
