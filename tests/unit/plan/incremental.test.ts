import { describe, expect, it } from 'vitest';
import { type IncrementalInput, jobFingerprint, planIncremental } from '../../../src/plan/incremental.ts';

const DAY = 86_400_000;
const now = new Date('2026-12-10T02:00:00Z');
const fp = jobFingerprint({ host: 'f1', paths: ['/srv'], exclude: [], oneFileSystem: false, recipients: [] });
const full = {
  id: 'F',
  startedAt: '2026-12-08T02:00:00Z',
  chain: { type: 'full' as const, level: 0, root: 'F' },
};
const inc = {
  id: 'I1',
  startedAt: '2026-12-09T02:00:00Z',
  chain: { type: 'incremental' as const, level: 1, root: 'F' },
};

function input(over: Partial<IncrementalInput> = {}): IncrementalInput {
  return {
    setting: { fullEvery: { ms: 7 * DAY, text: '7d' } },
    forceFull: false,
    newest: inc,
    newestChainProblem: undefined,
    root: full,
    failedChecks: [],
    state: { backupId: 'I1', fingerprint: fp },
    fingerprint: fp,
    now,
    ...over,
  };
}

describe('planIncremental', () => {
  it('continues the chain of the newest backup when this machine kept its state', () => {
    expect(planIncremental(input())).toEqual({ type: 'incremental', parent: 'I1', root: 'F', level: 2 });
  });

  it('makes standalone archives when the job is not incremental', () => {
    expect(planIncremental(input({ setting: false }))).toEqual({ type: 'standalone' });
  });

  it.each<[string, Partial<IncrementalInput>, RegExp]>([
    ['--full', { forceFull: true }, /--full/],
    ['no backup yet', { newest: undefined }, /first backup/],
    ['no state here', { state: undefined }, /no incremental state on this machine/],
    [
      'state of another backup',
      { state: { backupId: 'X', fingerprint: fp } },
      /state is for backup X, but the newest backup is I1/,
    ],
    ['newest is standalone', { newest: { ...inc, chain: null } }, /standalone archive/],
    ['broken chain', { newestChainProblem: 'parent P is missing' }, /parent P is missing/],
    ['failed check', { failedChecks: ['F'] }, /backup F in the chain failed/],
    [
      'job changed',
      {
        fingerprint: jobFingerprint({
          host: 'f1',
          paths: ['/srv'],
          exclude: ['*.tmp'],
          oneFileSystem: false,
          recipients: [],
        }),
      },
      /job changed/,
    ],
    ['chain too old', { now: new Date('2026-12-15T02:00:00Z') }, /full F is 7d old \(fullEvery: 7d\)/],
    ['chain too long', { setting: { fullEvery: { count: 2 } } }, /holds 2 backups \(fullEvery: 2\)/],
  ])('makes a full, saying why: %s', (_, over, reason) => {
    const plan = planIncremental(input(over));
    expect(plan.type).toBe('full');
    expect(plan.type === 'full' && plan.reason).toMatch(reason);
  });

  it('counts the full in fullEvery: 3 means a full and two incrementals', () => {
    expect(planIncremental(input({ setting: { fullEvery: { count: 3 } } })).type).toBe('incremental');
  });
});
