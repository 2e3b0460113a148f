import { describe, expect, it } from 'vitest';
import { HealthCheckSpec } from '../../../src/config/schema.ts';
import type { BackupStatus } from '../../../src/health/backups.ts';
import { judge, shrinkage } from '../../../src/health/checks/backup-freshness.ts';
import { schedulePeriodMs } from '../../../src/health/schedule.ts';

const H = 3_600_000;
const spec = (o: Record<string, unknown> = {}) =>
  HealthCheckSpec.parse({ check: 'backup-freshness', ...o }) as Extract<
    HealthCheckSpec,
    { check: 'backup-freshness' }
  >;
const now = new Date('2025-11-22T12:00:00Z');

function status(ageHours: number | undefined, o: Partial<BackupStatus> = {}): BackupStatus {
  return {
    job: 'files1-share',
    host: 'files1',
    storage: 'offsite',
    schedule: '0 2 * * *',
    count: 5,
    sourceSizes: [100, 100, 100],
    unreadable: 0,
    ...(ageHours !== undefined
      ? {
          last: {
            id: 'b',
            finishedAt: new Date(now.getTime() - ageHours * H).toISOString(),
            sourceBytes: 100,
            storedBytes: 60,
            files: 3,
            warnings: 0,
          },
        }
      : {}),
    ...o,
  };
}

describe('backup-freshness', () => {
  it('schedule period from cron: daily, weekdays, every 5 minutes', () => {
    expect(schedulePeriodMs('0 2 * * *', 'UTC')).toBe(24 * H);
    expect(schedulePeriodMs('0 2 * * 1-5', 'UTC')).toBe(72 * H);
    expect(schedulePeriodMs('*/5 * * * *')).toBe(5 * 60_000);
    expect(schedulePeriodMs('not cron')).toBeUndefined();
  });

  it('daily job: ok within period + grace, warn when overdue, crit when twice overdue', () => {
    expect(judge(status(10), spec(), now).status).toBe('ok');
    expect(judge(status(25.5), spec(), now).status).toBe('ok'); // 2h grace for the run itself
    const late = judge(status(27), spec(), now);
    expect(late).toMatchObject({
      status: 'warn',
      host: 'files1',
      subject: 'files1-share',
      threshold: { warn: 26 * 3600, crit: 52 * 3600 },
    });
    expect(late.message).toMatch(
      /^files1-share: last backup 27h ago \(source 100 B, stored 60 B, 3 files\); overdue \(expected within 26h\)/,
    );
    expect(judge(status(53), spec(), now).status).toBe('crit');
  });

  it('maxAge overrides the schedule; no schedule and no maxAge is unknown', () => {
    expect(judge(status(30), spec({ maxAge: '2d' }), now).status).toBe('ok');
    const none = judge(status(30, { schedule: undefined }), spec(), now);
    expect(none.status).toBe('unknown');
    expect(none.message).toMatch(/no schedule and no maxAge/);
  });

  it('no backup at all is crit for a scheduled job; a listing error is unknown', () => {
    expect(judge(status(undefined), spec(), now)).toMatchObject({ status: 'crit' });
    expect(judge(status(undefined, { error: 'access denied' }), spec(), now)).toMatchObject({
      status: 'unknown',
      message: 'cannot list backups of files1-share in offsite: access denied',
    });
  });

  it('a backup whose source is far smaller than usual warns (did a mount vanish?)', () => {
    expect(shrinkage([100, 110, 90, 10])).toBeCloseTo(0.9);
    expect(shrinkage([100, 120])).toBeUndefined();
    const r = judge(status(2, { sourceSizes: [1000, 1000, 1000, 100] }), spec(), now);
    expect(r.status).toBe('warn');
    expect(r.message).toMatch(/90% smaller than usual/);
  });
});

describe('verify and drill evidence', () => {
  const proofs = (o: BackupStatus['proofs']) => status(2, { proofs: o });
  const ago = (h: number) => new Date(now.getTime() - h * H).toISOString();

  it('shown when present, judged when a max age is configured', () => {
    const r = judge(proofs({ verify: { lastAt: ago(30), lastOk: true, okAt: ago(30) } }), spec(), now);
    expect(r.status).toBe('ok');
    expect(r.message).toMatch(/; verified 30h ago$/);
    const stale = judge(
      proofs({ verify: { lastAt: ago(30), lastOk: true, okAt: ago(30) } }),
      spec({ verifyMaxAge: '1d' }),
      now,
    );
    expect(stale.status).toBe('warn');
    expect(stale.message).toMatch(/verified 30h ago: run `bo verify files1-share`/);
  });

  it('a failed newest verify or drill is crit; none at all warns only when required', () => {
    const failed = judge(
      proofs({ drill: { lastAt: ago(5), lastOk: false, okAt: ago(200), detail: 'checksum mismatch' } }),
      spec(),
      now,
    );
    expect(failed.status).toBe('crit');
    expect(failed.message).toMatch(
      /restore drill FAILED 5h ago \(checksum mismatch\): run `bo drill files1-share`/,
    );
    expect(judge(proofs(undefined), spec(), now).status).toBe('ok');
    expect(judge(proofs(undefined), spec({ drillMaxAge: '30d' }), now)).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/restore drill never: run `bo drill files1-share`/),
    });
  });
});
