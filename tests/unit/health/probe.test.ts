import { describe, expect, it } from 'vitest';
import { buildProbeScript, splitProbeOutput } from '../../../src/health/probe.ts';

describe('probe batching', () => {
  it('runs the sections that cannot hang first, in its own shell; the rest under timeout', () => {
    const script = buildProbeScript(
      [
        { id: 's0', command: 'df -PT -B1', bounded: true },
        { id: 's1', command: "echo 'quoted' && exit 3", bounded: true },
        { id: 's2', command: 'c /proc/uptime', bounded: false },
        { id: 's3', command: 'zpool status -x 2>&1', bounded: true },
      ],
      10,
    );
    const at = (needle: string) => {
      expect(script).toContain(needle);
      return script.indexOf(needle);
    };
    // A /proc read is a { } group in the batch's shell, before any bounded section.
    const proc = at('m s2; {\nc /proc/uptime\n} </dev/null; r $?');
    // Plain command lines (a trailing 2>&1 included) need no shell of their own under timeout.
    expect(at('m s0; { $T df -PT -B1; r $?; } </dev/null')).toBeGreaterThan(proc);
    at('m s3; { $T zpool status -x 2>&1; r $?; } </dev/null');
    at(`m s1; { $T sh -c 'echo '\\''quoted'\\'' && exit 3'; r $?; } </dev/null`);
    expect(script).toContain('LC_ALL=C');
    expect(script).toMatch(/command -v timeout >\/dev\/null 2>&1 && T="timeout -k 2 10"/);
    // bash has the time without a process; other shells ask date.
    expect(script).toContain(`_t=\${EPOCHREALTIME:-}; [ -n "$_t" ] || _t=$(date +%s.%N 2>/dev/null)`);
  });

  it('tests guards in its own shell, shares one timeout sh per group, runs a fallback after a failure without output', () => {
    const guard = { test: 'command -v zpool >/dev/null 2>&1', otherwise: 'echo "@@bo-nozpool"' };
    const script = buildProbeScript(
      [
        { id: 's0', command: 'zpool status -x 2>&1', bounded: true, guard },
        {
          id: 's1',
          command: 'systemctl --failed',
          bounded: true,
          group: 'd',
          guard: { test: '[ -d /x ]', otherwise: 'echo none' },
        },
        {
          id: 's2',
          command: 'timedatectl show',
          bounded: true,
          group: 'd',
          guard: { test: '[ -d /x ]', otherwise: 'echo nontp' },
        },
        { id: 's3', command: 'df --output', bounded: true, fallback: 'df -P' },
      ],
      10,
    );
    expect(script).toContain(
      'm s0; if command -v zpool >/dev/null 2>&1; then { $T zpool status -x 2>&1; r $?; } </dev/null; else echo "@@bo-nozpool"; r $?; fi',
    );
    // One guard test for the group (deduplicated); without any tool, no process at all.
    expect(script).toMatch(
      /^if \[ -d \/x \]; then \$T sh -c '.*m s1; if \[ -d \/x \]; then\nsystemctl --failed\n/ms,
    );
    expect(script).toContain('</dev/null; r $?; else m s1; echo none; r $?; m s2; echo nontp; r $?; fi');
    expect(script.match(/\$T sh -c/g)).toHaveLength(2); // the group, and the fallback
    expect(script).toContain(
      `m s3; { _o=$($T df --output); _r=$?; if [ -n "$_o" ]; then printf '%s\\n' "$_o"; elif [ $_r -ne 0 ] && [ $_r -lt 124 ]; then echo "@@bo-fallback"; $T sh -c 'df -P'; _r=$?; fi; r $_r; } </dev/null`,
    );
  });

  it('a group killed by timeout: the hung section gets the rc of timeout, the rest are missing', () => {
    const split = splitProbeOutput(
      '@@bo:hello 1\n\n@@bo:s1\nok\n\n@@bo:rc=0\n\n@@bo:s2\n\n@@bo:rc=124\n\n@@bo:s4\nx\n\n@@bo:rc=0\n\n@@bo:rc=0\n\n@@bo:end\n',
      '',
    );
    expect(split.sections.get('s2')?.code).toBe(124);
    expect(split.sections.has('s3')).toBe(false);
    // A group's own rc after its last section closed opens nothing.
    expect([...split.sections.keys()]).toEqual(['s1', 's2', 's4']);
    expect(split.complete).toBe(true);
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
