import { describe, expect, it } from 'vitest';
import { planSpans, spanBytes } from '../../../src/plan/seek.ts';

describe('planSpans', () => {
  it('reads members of one frame in one pass from the first, in archive order', () => {
    const spans = planSpans(
      [
        { member: 'b', at: [100, 5000], size: 10 },
        { member: 'a', at: [100, 512], size: 10 },
      ],
      0.5,
    );
    expect(spans).toEqual([
      { start: 100, skip: 512, members: ['a', 'b'], hint: Math.ceil(0.5 * (5000 + 10 + 4096)) },
    ]);
  });

  it('reads on into a near frame, and seeks to a distant one', () => {
    const MiB = 1024 * 1024;
    const spans = planSpans(
      [
        { member: 'a', at: [0, 0], size: 100 },
        { member: 'near', at: [MiB, 0], size: 100 },
        { member: 'far', at: [100 * MiB, 7], size: 100 },
      ],
      1,
    );
    expect(spans.map((s) => [s.start, s.skip, s.members])).toEqual([
      [0, 0, ['a', 'near']],
      [100 * MiB, 7, ['far']],
    ]);
    expect(spanBytes(spans)).toBe(MiB + 4196 + 7 + 4196);
  });
});
