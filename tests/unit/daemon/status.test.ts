import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { recordCheck } from '../../../src/catalog/checks.ts';
import { migrate } from '../../../src/catalog/db.ts';
import { migrations } from '../../../src/catalog/migrations.ts';
import { finishRun, insertRun, type RunOutcome } from '../../../src/catalog/runs.ts';
import { buildStatus, listJobs } from '../../../src/daemon/status.ts';
import { jitterMs, retryDelayMs } from '../../../src/daemon/timing.ts';
import { parseConfig } from './harness.ts';

const job = (schedule?: string, extra: Record<string, unknown> = {}) => ({
  host: 'h1',
  paths: ['/srv'],
  storage: 's',
  timezone: 'UTC',
  ...(schedule ? { schedule } : {}),
  ...extra,
});
const now = new Date('2026-01-05T12:00:00Z');

function db() {
  const d = new DatabaseSync(':memory:');
  migrate(d, migrations);
  return d;
}

function finished(d: DatabaseSync, id: string, jobName: string, at: string, outcome: RunOutcome) {
  insertRun(
    d,
    {
      id,
      job: jobName,
      kind: 'backup',
      trigger: 'schedule',
      attempt: 1,
      scheduledAt: at,
      queuedAt: at,
      startedAt: at,
    },
    { pid: 1, boot: 'x' },
  );
  finishRun(d, id, {
    finishedAt: at,
    outcome,
    ...(outcome === 'failed' ? { error: 'tar on h1 failed' } : {}),
    ...(outcome === 'cancelled' ? { error: 'cancelled: the daemon is shutting down' } : {}),
  });
}

const idle = (...names: string[]) => ({
  jobs: names.map((n) => ({ job: n, state: 'idle' as const, skippedStarts: 0 })),
  queue: [],
  running: 0,
  limits: { concurrency: 4, perHostConcurrency: 1 },
  stopping: false,
});
const NO_DAEMON =
  'no daemon is running, but 1 job has a schedule: nothing runs it (start it: systemctl start bo, or bo daemon)';

describe('status', () => {
  it('without a daemon, a job with a schedule is a problem: nothing runs it', () => {
    const d = db();
    finished(d, 'a1', 'a', '2026-01-05T02:00:00.000Z', 'ok');
    const config = parseConfig({
      jobs: { a: job('0 2 * * *'), byHand: job(), off: job('0 2 * * *', { enabled: false }) },
    });
    expect(buildStatus({ config, db: d, now }).problems).toEqual([NO_DAEMON]);
    expect(buildStatus({ config, db: d, now, live: idle('a', 'byHand', 'off') }).problems).toEqual([]);
    const unscheduled = parseConfig({ jobs: { byHand: job() } });
    expect(buildStatus({ config: unscheduled, db: d, now }).problems).toEqual([]);
  });

  it('a backup job whose last restore drill failed is a problem; a newer good drill clears it', () => {
    const d = db();
    finished(d, 'a1', 'j', '2026-01-05T02:00:00.000Z', 'ok');
    const config = parseConfig({ jobs: { j: job() } });
    const drill = (at: string, outcome: 'ok' | 'failed') =>
      recordCheck(d, {
        kind: 'drill',
        storage: 's',
        job: 'j',
        backupId: 'b1',
        startedAt: at,
        finishedAt: at,
        durationMs: 1000,
        outcome,
        ...(outcome === 'failed' ? { detail: 'file etc/a: SHA-256 differs from the index\nmore' } : {}),
      });
    drill('2026-01-05T03:00:00.000Z', 'ok');
    drill('2026-01-05T04:00:00.000Z', 'failed');
    expect(buildStatus({ config, db: d, now }).problems).toEqual([
      'j: last restore drill FAILED: file etc/a: SHA-256 differs from the index',
    ]);
    drill('2026-01-05T05:00:00.000Z', 'ok');
    expect(buildStatus({ config, db: d, now }).problems).toEqual([]);
  });

  it('drill records: a database from before drills has none; one it cannot read is a problem, not "never proven"', () => {
    const config = parseConfig({ jobs: { j: job('0 2 * * *') } });
    const old = db();
    old.exec('DROP TABLE backup_checks');
    expect(buildStatus({ config, db: old, now }).problems).toEqual([NO_DAEMON]);
    const broken = db();
    broken.exec('DROP TABLE backup_checks; CREATE TABLE backup_checks (x)');
    const s = buildStatus({ config, db: broken, now });
    expect(s.problems).toContainEqual(
      expect.stringMatching(/^j: cannot read its drill records: .*no such column/),
    );
    expect(s.jobs[0]!.drill).toBeUndefined();
  });

  it('flags failed last runs and overdue jobs as problems', () => {
    const d = db();
    finished(d, 'a', 'fresh', '2026-01-05T02:00:00.000Z', 'ok');
    finished(d, 'b', 'stale', '2026-01-03T02:00:00.000Z', 'ok');
    finished(d, 'c1', 'broken', '2026-01-05T01:00:00.000Z', 'ok');
    finished(d, 'c2', 'broken', '2026-01-05T02:00:00.000Z', 'failed');
    const config = parseConfig({
      jobs: {
        fresh: job('0 2 * * *'),
        stale: job('0 2 * * *'),
        broken: job('0 2 * * *'),
        manual: job(),
        off: job('0 2 * * *', { enabled: false }),
      },
    });
    const s = buildStatus({ config, db: d, now });
    expect(s.problems).toEqual([
      'no daemon is running, but 3 jobs have a schedule: nothing runs them (start it: systemctl start bo, or bo daemon)',
      'stale: overdue (due 2026-01-04T02:00:00.000Z)',
      'broken: last run failed: tar on h1 failed',
    ]);
    const by = Object.fromEntries(s.jobs.map((j) => [j.job, j]));
    expect(by.fresh).toMatchObject({
      state: 'idle',
      nextRunAt: '2026-01-06T02:00:00.000Z',
      lastRun: { id: 'a' },
    });
    expect(by.broken).toMatchObject({ lastRun: { id: 'c2', outcome: 'failed' }, lastSuccess: { id: 'c1' } });
    expect(by.manual).toMatchObject({ state: 'on-demand', nextRunAt: undefined });
    expect(by.off).toMatchObject({ state: 'disabled' });
    expect(s.source).toBe('state-db');
  });

  it('does not call a job overdue for a due time that passed while its own run was still going', () => {
    const d = db();
    // Scheduled at 02:00 daily, the run took 25 hours: the 02:00 start of the next day was skipped
    // (no overlap), not missed. 12 h after it ended the job is not overdue.
    insertRun(
      d,
      {
        id: 'slow',
        job: 'slow',
        kind: 'backup',
        trigger: 'schedule',
        attempt: 1,
        scheduledAt: '2026-01-03T02:00:00.000Z',
        queuedAt: '2026-01-03T02:00:00.000Z',
        startedAt: '2026-01-03T02:00:00.000Z',
      },
      { pid: 1, boot: 'x' },
    );
    finishRun(d, 'slow', { finishedAt: '2026-01-04T03:00:00.000Z', outcome: 'ok' });
    const config = parseConfig({ jobs: { slow: job('0 2 * * *') } });
    const s = buildStatus({ config, db: d, now: new Date('2026-01-04T15:00:00.000Z') });
    expect(s.problems.filter((p) => p.startsWith('slow:'))).toEqual([]);
  });

  it('does not call a running job overdue', () => {
    const d = db();
    finished(d, 'b', 'stale', '2026-01-03T02:00:00.000Z', 'ok');
    const config = parseConfig({ jobs: { stale: job('0 2 * * *') } });
    const live = {
      jobs: [
        {
          job: 'stale',
          state: 'running' as const,
          skippedStarts: 0,
          run: {
            id: 'r',
            trigger: 'manual',
            attempt: 1,
            queuedAt: now.toISOString(),
            startedAt: now.toISOString(),
          },
        },
      ],
      queue: [],
      running: 1,
      limits: { concurrency: 4, perHostConcurrency: 1 },
      stopping: false,
    };
    const s = buildStatus({ config, db: d, now, live });
    expect(s.problems).toEqual([]);
    expect(s.jobs[0]).toMatchObject({ state: 'running', run: { id: 'r' } });
  });

  it('shows, without a daemon, an interrupted run as abandoned', () => {
    const d = db();
    insertRun(
      d,
      {
        id: 'x',
        job: 'j',
        kind: 'backup',
        trigger: 'manual',
        attempt: 1,
        queuedAt: '2026-01-05T11:00:00.000Z',
        startedAt: '2026-01-05T11:00:00.000Z',
      },
      { pid: 1, boot: 'a-previous-boot' },
    );
    const s = buildStatus({ config: parseConfig({ jobs: { j: job() } }), db: d, now });
    expect(s.jobs[0]?.lastRun).toMatchObject({ id: 'x', outcome: 'abandoned' });
  });

  it('counts a last run that was cancelled or abandoned as a problem, unless a new run is under way', () => {
    const d = db();
    finished(d, 'a1', 'stopped', '2026-01-05T02:00:00.000Z', 'cancelled');
    finished(d, 'b1', 'crashed', '2026-01-05T02:00:00.000Z', 'abandoned');
    finished(d, 'c1', 'retried', '2026-01-05T02:00:00.000Z', 'abandoned');
    const config = parseConfig({
      jobs: { stopped: job('0 2 * * *'), crashed: job('0 2 * * *'), retried: job('0 2 * * *') },
    });
    const live = {
      jobs: [
        { job: 'stopped', state: 'idle' as const, skippedStarts: 0 },
        { job: 'crashed', state: 'idle' as const, skippedStarts: 0 },
        {
          job: 'retried',
          state: 'running' as const,
          skippedStarts: 0,
          run: { id: 'c2', trigger: 'catch-up', attempt: 1, queuedAt: now.toISOString() },
        },
      ],
      queue: [],
      running: 1,
      limits: { concurrency: 4, perHostConcurrency: 1 },
      stopping: false,
    };
    expect(buildStatus({ config, db: d, now, live }).problems).toEqual([
      'stopped: last run cancelled: cancelled: the daemon is shutting down',
      'crashed: last run abandoned: no reason recorded',
    ]);
  });

  it('makes an unreadable or missing history a problem once jobs are scheduled', () => {
    const scheduled = parseConfig({ stateDir: '/var/lib/bo-x', jobs: { a: job('0 2 * * *') } });
    const onDemand = parseConfig({ jobs: { a: job() } });
    const broken = buildStatus({
      config: scheduled,
      db: undefined,
      now,
      historyError: 'cannot read the run history in /var/lib/bo-x/state.db: permission denied',
    });
    expect(broken.problems).toEqual([
      'cannot read the run history in /var/lib/bo-x/state.db: permission denied',
      NO_DAEMON,
    ]);
    expect(buildStatus({ config: scheduled, db: undefined, now }).problems).toEqual([
      'no state database in /var/lib/bo-x: the daemon has not run here yet',
      NO_DAEMON,
    ]);
    expect(buildStatus({ config: onDemand, db: undefined, now }).problems).toEqual([]);
    const unreadable = db();
    unreadable.exec('DROP TABLE runs');
    expect(buildStatus({ config: scheduled, db: unreadable, now }).problems).toEqual([
      expect.stringMatching(/^cannot read the run history: no such table: runs/),
      NO_DAEMON,
    ]);
  });

  it('lists jobs with their next run times', () => {
    const config = parseConfig({ jobs: { a: job('*/15 * * * *', { retries: 2, jitter: '5m' }), b: job() } });
    expect(listJobs(config, now)).toEqual([
      {
        job: 'a',
        kind: 'backup',
        host: 'h1',
        schedule: '*/15 * * * *',
        timezone: 'UTC',
        enabled: true,
        catchUp: true,
        retries: 2,
        jitterMs: 300_000,
        nextRunAt: '2026-01-05T12:15:00.000Z',
      },
      {
        job: 'b',
        kind: 'backup',
        host: 'h1',
        schedule: undefined,
        timezone: 'UTC',
        enabled: true,
        catchUp: true,
        retries: 0,
        jitterMs: 0,
        nextRunAt: undefined,
      },
    ]);
  });
});

describe('timing', () => {
  it('doubles the retry delay per attempt up to the cap', () => {
    const j = { retryDelay: 60_000, retryDelayMax: 300_000 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(j, a))).toEqual([
      60_000, 120_000, 240_000, 300_000, 300_000,
    ]);
  });

  it('keeps jitter within [0, jitter]', () => {
    for (const r of [0, 0.1, 0.5, 0.999999]) {
      const v = jitterMs(600_000, () => r);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(600_000);
    }
    expect(jitterMs(0, () => 0.7)).toBe(0);
  });
});
