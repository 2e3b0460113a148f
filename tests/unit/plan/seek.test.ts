import { describe, expect, it } from 'vitest';
import { compressedAt, frameMap, planSpans, spanBytes } from '../../../src/plan/seek.ts';

describe('planSpans', () => {
  it('reads members of one frame in one pass from the first, in archive order', () => {
    const spans = planSpans(
      [
        { member: 'b', at: [100, 3 * 65536 + 5000], size: 10 },
        { member: 'a', at: [100, 3 * 65536 + 512], size: 10 },
      ],
      frameMap([], 65536, 0.5),
    );
    expect(spans).toEqual([
      {
        start: 100,
        skip: 512,
        members: ['a', 'b'],
        hint: Math.ceil(1.25 * 0.5 * (5000 + 10 + 4096)) + 128 * 1024,
      },
    ]);
  });

  it('reads on into a near frame, and seeks to a distant one', () => {
    const MiB = 1024 * 1024;
    const spans = planSpans(
      [
        { member: 'a', at: [0, 0], size: 100 },
        { member: 'near', at: [MiB, MiB], size: 100 },
        { member: 'far', at: [100 * MiB + 7, 100 * MiB + 7], size: 100 },
      ],
      frameMap([], null, 1),
    );
    expect(spans.map((s) => [s.start, s.skip, s.members])).toEqual([
      [0, 0, ['a', 'near']],
      [100 * MiB + 7, 0, ['far']],
    ]);
    expect(spanBytes(spans)).toBe(MiB + 4196 + 4196);
  });
});

describe('compressedAt', () => {
  it('interpolates inside a frame whose start and end the index knows, bounds by the next start, else uses the ratio', () => {
    const F = 1000;
    const map = frameMap(
      [{ at: [0, 10] }, { at: [400, 1500] }, { at: [500, 2100] }, { at: [900, 4000] }],
      F,
      0.5,
    );
    expect(compressedAt(map, 1500, { c: 400, t: 1000 })).toBe(450); // frame 1: 400..500
    expect(compressedAt(map, 3200, { c: 500, t: 2000 })).toBe(900); // frame 3 unknown, frame 4 known
    expect(compressedAt(map, 4400, { c: 900, t: 4000 })).toBe(900 + 1.25 * 0.5 * 400);
    expect(compressedAt(frameMap([], null, 1), 12345, { c: 0, t: 0 })).toBe(12345);
  });
});
