import { describe, expect, it } from 'vitest';
import { hookCommandLine, normalizeHooks } from '../../../src/plan/hooks.ts';

describe('hook plans', () => {
  it('fills in the default timeout', () => {
    expect(normalizeHooks(['a', { command: 'b', timeout: 1000 }, { command: 'c' }], 5000)).toEqual([
      { command: 'a', timeoutMs: 5000 },
      { command: 'b', timeoutMs: 1000 },
      { command: 'c', timeoutMs: 5000 },
    ]);
  });

  it('exports the run description as quoted BO_ variables before the command', () => {
    expect(
      hookCommandLine('systemctl start app', {
        BO_JOB: 'web',
        BO_ERROR: "it's $(bad)",
        BO_OUTCOME: undefined,
      }),
    ).toBe("export BO_JOB=web BO_ERROR='it'\\''s $(bad)'\nsystemctl start app");
    expect(hookCommandLine('x', { PATH: '/evil', 'BO_A;rm': 'x' })).toBe('x');
  });
});
