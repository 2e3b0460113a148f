import { describe, expect, it } from 'vitest';
import { progressRenderer } from '../../../src/cli/progress.ts';
import { ttyOutput as tty } from '../../fixtures/tty.ts';

const MiB = 1024 * 1024;

describe('backup progress line', () => {
  it("shows source bytes of the previous backup's, a percentage, the rate and an ETA", () => {
    const { out, lines } = tty();
    let t = 0;
    const render = progressRenderer(out, 'tree', () => t);
    t = 4000;
    render({ phase: 'streaming', bytes: 100 * MiB, storedBytes: 30 * MiB, files: 10, totalBytes: 400 * MiB });
    expect(lines.at(-1)).toBe(
      'tree: streaming  source 100 MiB of ~400 MiB (25%)  stored 30.0 MiB  10 files  25.0 MiB/s  ETA 12s',
    );
  });

  it('without an estimate, or past it: source bytes and the rate, no percentage or ETA', () => {
    const { out, lines } = tty();
    let t = 0;
    const render = progressRenderer(out, 'tree', () => t);
    t = 2000;
    render({ phase: 'streaming', bytes: 5 * MiB, storedBytes: MiB, files: 1 });
    expect(lines.at(-1)).toBe('tree: streaming  source 5.00 MiB  stored 1.00 MiB  1 files  2.50 MiB/s');
    render({ phase: 'streaming', bytes: 5 * MiB, files: 1, totalBytes: 4 * MiB });
    expect(lines.at(-1)).toBe('tree: streaming  source 5.00 MiB  1 files  2.50 MiB/s');
  });
});
