import { describe, expect, it } from 'vitest';
import { jitterProblem, shortestPeriodMs } from '../../../src/plan/jitter.ts';
import { problemsOf } from '../config/problems.ts';

const from = new Date('2026-01-05T12:00:00Z');

describe('jitter against the schedule period', () => {
  it('finds the shortest gap between fire times, irregular schedules included', () => {
    expect(shortestPeriodMs('*/20 * * * * *', 'UTC', from)).toBe(20_000);
    expect(shortestPeriodMs('0 2 * * *', 'UTC', from)).toBe(86_400_000);
    expect(shortestPeriodMs('0 2,3 * * 1-5', 'UTC', from)).toBe(3_600_000);
  });

  it('accepts jitter below the period and rejects a whole period or more', () => {
    expect(jitterProblem({ schedule: '0 2 * * *', jitter: 600_000 }, from)).toBeUndefined();
    expect(jitterProblem({ schedule: '*/5 * * * *', jitter: 299_000 }, from)).toBeUndefined();
    expect(jitterProblem({ schedule: '*/5 * * * *', jitter: 300_000 }, from)).toMatch(
      /^jitter \(5m\) must be shorter than the schedule's period \(5m\)/,
    );
    expect(jitterProblem({ jitter: 3_600_000 }, from)).toBeUndefined(); // on demand only
    expect(jitterProblem({ schedule: 'not cron', jitter: 3_600_000 }, from)).toBeUndefined();
  });

  it('is a config error at the job’s jitter', () => {
    const yaml = `
storage: { s: { type: filesystem, path: /srv/backup } }
jobs:
  ok: { host: local, paths: [/etc], storage: s, schedule: "0 2 * * *", jitter: 10m }
  tight: { host: local, paths: [/etc], storage: s, schedule: "*/5 * * * *", jitter: 10m }
`;
    expect(problemsOf(yaml)).toEqual([
      expect.stringMatching(
        /^jobs\.tight\.jitter: jitter \(10m\) must be shorter than the schedule's period \(5m\)/,
      ),
    ]);
  });
});
