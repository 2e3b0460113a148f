import { describe, expect, it } from 'vitest';
import { buildProbeScript, splitProbeOutput } from '../../../src/health/probe.ts';

describe('probe batching', () => {
  it('frames each section on stdout and stderr and wraps it in its own sh -c', () => {
    const script = buildProbeScript(
      [
        { id: 's0', command: 'df -PT -B1', bounded: true },
        { id: 's1', command: "echo 'quoted' && exit 3", bounded: true },
        { id: 's2', command: 'cat /proc/uptime', bounded: false },
      ],
      10,
    );
    expect(script).toContain('m s0; $T df -PT -B1 </dev/null;');
    expect(script).toContain(`m s1; $T sh -c 'echo '\\''quoted'\\'' && exit 3' </dev/null;`);
    expect(script).toContain('m s2; (\ncat /proc/uptime\n) </dev/null;');
    expect(script).toContain('LC_ALL=C');
    expect(script).toMatch(/command -v timeout >\/dev\/null 2>&1 && T="timeout -k 2 10"/);
  });

  it('splits stdout and stderr back per section, with exit codes', () => {
    const stdout =
      '@@bo:hello 1763798400.250000000\n\n@@bo:s0\nline 1\nline 2\n\n@@bo:rc=0\n\n@@bo:s1\npartial\n@@bo:rc=3\n\n@@bo:end\n';
    const stderr = '\n@@bo:s0\n\n@@bo:s1\noops\n\n@@bo:end\n';
    const split = splitProbeOutput(stdout, stderr);
    expect(split.complete).toBe(true);
    expect(split.hostTimeMs).toBe(1763798400250);
    expect(split.sections.get('s0')).toEqual({ stdout: 'line 1\nline 2\n', stderr: '', code: 0 });
    expect(split.sections.get('s1')).toEqual({ stdout: 'partial\n', stderr: 'oops\n', code: 3 });
  });

  it('a section cut short (timeout) has no exit code; later sections are absent', () => {
    const split = splitProbeOutput('@@bo:hello 1\n\n@@bo:s0\nhalf a li', '');
    expect(split.complete).toBe(false);
    expect(split.sections.get('s0')).toEqual({ stdout: 'half a li\n', stderr: '', code: null });
    expect(split.sections.has('s1')).toBe(false);
  });

  it('hosts whose date lacks %N still give seconds', () => {
    expect(splitProbeOutput('@@bo:hello 1763798400.N\n', '').hostTimeMs).toBe(1763798400000);
  });
});
