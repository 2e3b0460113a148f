import { describe, expect, it } from 'vitest';
import { restoreProgress } from '../../../src/cli/commands/restore.ts';
import { ttyOutput as tty } from '../../fixtures/tty.ts';

describe('restore progress line', () => {
  it('shows files and bytes of the totals, the rate and an ETA from the known total', () => {
    const { out, lines } = tty();
    let t = 0;
    const render = restoreProgress({ out }, 'share/ID', 0, () => t);
    t = 4000;
    render({ files: 2, bytes: 25 * 1024 * 1024, totalFiles: 16, totalBytes: 100 * 1024 * 1024 });
    expect(lines.at(-1)).toBe(
      'restoring share/ID: 2/16 files  25.0 MiB of 100 MiB (25%)  6.25 MiB/s  ETA 12s',
    );
    t = 4050; // redrawn at most every 100 ms
    render({ files: 3, bytes: 26 * 1024 * 1024, totalFiles: 16, totalBytes: 100 * 1024 * 1024 });
    expect(lines).toHaveLength(1);
    render({ files: 16, bytes: 100 * 1024 * 1024, totalFiles: 16, totalBytes: 100 * 1024 * 1024 });
    expect(lines.at(-1)).toMatch(
      /^restoring share\/ID: 16\/16 files {2}100 MiB of 100 MiB \(100%\) {2}[\d.]+ MiB\/s$/,
    );
  });

  it('counts what a resumed restore kept toward the total but not toward the rate', () => {
    const { out, lines } = tty();
    let t = 0;
    const render = restoreProgress({ out }, 'j/i', 0, () => t);
    t = 2000;
    render({ files: 8, bytes: 60, totalFiles: 10, totalBytes: 100, keptBytes: 50 });
    expect(lines.at(-1)).toBe('restoring j/i: 8/10 files  60 B of 100 B (60%)  5 B/s  ETA 8s');
  });

  it('gives minutes and hours for long restores, and draws nothing off a terminal', () => {
    const { out, lines } = tty();
    let t = 0;
    const render = restoreProgress({ out }, 'j/i', 0, () => t);
    t = 60_000;
    render({ files: 0, bytes: 1, totalFiles: 1, totalBytes: 200 });
    expect(lines.at(-1)).toMatch(/ETA 3h19m$/);
    const quiet = tty();
    restoreProgress(
      { out: { ...quiet.out, interactive: false } },
      'j/i',
      0,
      () => 5000,
    )({
      files: 0,
      bytes: 1,
      totalFiles: 1,
      totalBytes: 2,
    });
    expect(quiet.lines).toEqual([]);
  });
});
