import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { withLowPriority } from '../../../src/plan/priority.ts';

describe('withLowPriority on a real shell', () => {
  it('runs the command at nice 19 and best-effort I/O level 7, which its children inherit', () => {
    const probe = 'sh -c \'echo "nice=$(cut -d" " -f19 /proc/$$/stat)"; ionice -p $$\'';
    const out = execFileSync('sh', ['-c', withLowPriority(probe, true)], { encoding: 'utf8' });
    expect(out).toMatch(/nice=19/);
    expect(out).toMatch(/best-effort: prio 7/);
  });

  it('leaves the command alone when off', () => {
    expect(withLowPriority('tar -c', false)).toBe('tar -c');
  });
});
