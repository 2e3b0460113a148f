import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../src/catalog/db.ts';
import { migrations } from '../../../src/catalog/migrations.ts';
import { getRun, insertRun, listRuns } from '../../../src/catalog/runs.ts';
import { UsageError } from '../../../src/errors.ts';
import { HOUR, harness, MIN, parseConfig } from './harness.ts';

const job = (host: string, schedule: string | undefined, extra: Record<string, unknown> = {}) => ({
  host,
  paths: ['/srv'],
  storage: 's',
  timezone: 'UTC',
  ...(schedule ? { schedule } : {}),
  ...extra,
});

describe('scheduler: firing', () => {
  it('runs a job at its cron time and records the run', async () => {
    const h = harness({ jobs: { nightly: job('h1', '0 2 * * *') } });
    await h.clock.advance(13 * HOUR); // 2026-01-06T01:00
    expect(h.calls).toHaveLength(0);
    await h.clock.advance(HOUR);
    expect(h.calls.map((c) => c.at)).toEqual(['2026-01-06T02:00:00.000Z']);
    const [run] = listRuns(h.db, { job: 'nightly' });
    expect(run).toMatchObject({
      job: 'nightly',
      kind: 'backup',
      host: 'h1',
      trigger: 'schedule',
      attempt: 1,
      scheduledAt: '2026-01-06T02:00:00.000Z',
      startedAt: '2026-01-06T02:00:00.000Z',
      outcome: 'ok',
      bytes: 10,
      files: 1,
    });
    expect(h.scheduler.snapshot().jobs[0]).toMatchObject({
      state: 'idle',
      nextRunAt: '2026-01-07T02:00:00.000Z',
    });
  });

  it('handles second-level schedules', async () => {
    const h = harness({ jobs: { fast: job('h1', '*/10 * * * * *') } });
    await h.clock.advance(MIN);
    expect(h.calls).toHaveLength(6);
  });

  it('keeps every jittered start within [schedule time, schedule time + jitter]', async () => {
    const rolls = [0, 0.5, 0.99999, 0.25];
    let i = 0;
    const h = harness(
      { jobs: { spread: job('h1', '0 2 * * *', { jitter: '10m' }) } },
      { random: () => rolls[i++ % rolls.length]! },
    );
    await h.clock.advance(4 * 24 * HOUR);
    const starts = h.calls.map((c) => Date.parse(c.at));
    expect(starts).toHaveLength(4);
    for (const [n, s] of starts.entries()) {
      const scheduled = Date.parse(`2026-01-0${6 + n}T02:00:00Z`);
      expect(s).toBeGreaterThanOrEqual(scheduled);
      expect(s).toBeLessThanOrEqual(scheduled + 10 * MIN);
    }
    expect(starts[0]).toBe(Date.parse('2026-01-06T02:00:00Z'));
    expect(starts[1]).toBe(Date.parse('2026-01-07T02:05:00Z'));
    // scheduled time stays the cron time; the jitter only delays the start
    expect(listRuns(h.db).every((r) => r.scheduledAt?.endsWith('T02:00:00.000Z'))).toBe(true);
  });

  it('does not schedule disabled or unscheduled jobs', async () => {
    const h = harness({
      jobs: { off: job('h1', '* * * * *', { enabled: false }), manual: job('h2', undefined) },
    });
    await h.clock.advance(10 * MIN);
    expect(h.calls).toHaveLength(0);
  });
});

describe('scheduler: overlap', () => {
  it('skips a start while the previous run is still going, logs and counts it', async () => {
    const h = harness({ jobs: { slow: job('h1', '* * * * *') } }, { behaviour: { slow: 'wait' } });
    await h.clock.advance(3.5 * MIN);
    expect(h.calls).toHaveLength(1);
    const skipped = h.events.filter((e) => e.type === 'skipped');
    expect(skipped).toHaveLength(2);
    expect(h.logs.filter((l) => String(l.msg).startsWith('Scheduled start skipped'))).toHaveLength(2);
    expect(h.scheduler.snapshot().jobs[0]).toMatchObject({ state: 'running', skippedStarts: 2 });
    h.calls[0]!.finish();
    await h.clock.advance(MIN);
    expect(h.calls).toHaveLength(2);
  });
});

describe('scheduler: retries', () => {
  it('retries a failed scheduled run with doubling delays up to the cap, then stops', async () => {
    const h = harness(
      { jobs: { flaky: job('h1', '0 2 * * *', { retries: 3, retryDelay: '1m', retryDelayMax: '3m' }) } },
      { start: '2026-01-06T01:59:00Z', behaviour: { flaky: 'fail' } },
    );
    await h.clock.advance(HOUR);
    expect(h.calls.map((c) => c.at.slice(11, 16))).toEqual(['02:00', '02:01', '02:03', '02:06']);
    const runs = listRuns(h.db).reverse();
    expect(runs.map((r) => [r.trigger, r.attempt, r.outcome])).toEqual([
      ['schedule', 1, 'failed'],
      ['retry', 2, 'failed'],
      ['retry', 3, 'failed'],
      ['retry', 4, 'failed'],
    ]);
    expect(runs.every((r) => r.scheduledAt === '2026-01-06T02:00:00.000Z' && r.error === 'flaky broke')).toBe(
      true,
    );
  });

  it('stops retrying once an attempt succeeds', async () => {
    const h = harness(
      { jobs: { flaky: job('h1', '0 2 * * *', { retries: 5, retryDelay: '1m' }) } },
      { start: '2026-01-06T01:59:00Z', behaviour: { flaky: 'fail' } },
    );
    await h.clock.advance(MIN);
    h.behaviour.set('flaky', 'ok');
    await h.clock.advance(HOUR);
    expect(listRuns(h.db).map((r) => r.outcome)).toEqual(['ok', 'failed']);
  });

  it('does not retry runs started on request', async () => {
    const h = harness({ jobs: { j: job('h1', undefined, { retries: 3 }) } }, { behaviour: { j: 'fail' } });
    h.scheduler.request('j');
    await h.clock.advance(HOUR);
    expect(h.calls).toHaveLength(1);
  });
});

describe('scheduler: limits and isolation', () => {
  it('holds runs in a visible queue under the global and per-host limits', async () => {
    const cron = '0 2 * * *';
    const h = harness(
      {
        daemon: { concurrency: 2, perHostConcurrency: 1 },
        jobs: { a: job('h1', cron), b: job('h1', cron), c: job('h2', cron), d: job('h3', cron) },
      },
      { start: '2026-01-06T01:59:00Z', behaviour: { a: 'wait', b: 'wait', c: 'wait', d: 'wait' } },
    );
    await h.clock.advance(MIN);
    expect(h.calls.map((c) => c.job)).toEqual(['a', 'c']);
    const snap = h.scheduler.snapshot();
    expect(snap.running).toBe(2);
    expect(snap.queue.map((q) => [q.job, q.waitingFor])).toEqual([
      ['b', 'host'],
      ['d', 'concurrency'],
    ]);
    expect(snap.jobs.find((j) => j.job === 'd')?.run).toMatchObject({ position: 2 });
    h.calls[0]!.finish();
    await h.clock.settle();
    expect(h.calls.map((c) => c.job)).toEqual(['a', 'c', 'b']);
    h.calls[1]!.finish();
    await h.clock.settle();
    expect(h.calls.map((c) => c.job)).toEqual(['a', 'c', 'b', 'd']);
    expect(h.scheduler.snapshot().queue).toEqual([]);
  });

  it('counts a drill against its toHost; a health job only globally, never waiting for a busy host', async () => {
    const cron = '0 2 * * *';
    const host = (n: number) => ({ address: `10.0.0.${n}`, privateKey: '/etc/bo/id' });
    const h = harness(
      {
        daemon: { concurrency: 10, perHostConcurrency: 1 },
        hosts: { h1: host(1), h2: host(2), h3: host(3) },
        jobs: {
          a: job('h1', cron),
          b: job('h2', cron),
          checks: { kind: 'health', hosts: ['h1', 'h2'], schedule: cron, timezone: 'UTC' },
          drill: { kind: 'drill', toHost: 'h3:/var/tmp/drill', schedule: cron, timezone: 'UTC' },
          c: job('h3', cron),
        },
      },
      {
        start: '2026-01-06T01:59:00Z',
        behaviour: { a: 'wait', checks: 'wait', b: 'wait', drill: 'wait', c: 'wait' },
      },
    );
    await h.clock.advance(MIN);
    // The backups hold h1 and h2; the health job checks them anyway.
    expect(h.calls.map((c) => c.job)).toEqual(['a', 'b', 'checks', 'drill']);
    expect(h.scheduler.snapshot().queue.map((q) => [q.job, q.waitingFor])).toEqual([['c', 'host']]);
    h.calls[3]!.finish(); // the drill frees h3
    await h.clock.settle();
    expect(h.calls.map((c) => c.job)).toEqual(['a', 'b', 'checks', 'drill', 'c']);
  });

  it('a failing job or a stuck host never blocks the others', async () => {
    const cron = '0 2 * * *';
    const h = harness(
      {
        daemon: { concurrency: 4, perHostConcurrency: 1 },
        jobs: {
          stuck: job('h1', cron),
          behind: job('h1', cron),
          broken: job('h2', cron),
          fine: job('h3', cron),
        },
      },
      { start: '2026-01-06T01:59:00Z', behaviour: { stuck: 'wait', broken: 'fail' } },
    );
    await h.clock.advance(MIN);
    const outcomes = Object.fromEntries(
      listRuns(h.db).map((r) => [r.job, r.outcome ?? (r.startedAt ? 'running' : 'queued')]),
    );
    expect(outcomes).toEqual({ stuck: 'running', behind: 'queued', broken: 'failed', fine: 'ok' });
  });
});

describe('scheduler: catch-up and abandoned runs', () => {
  function seeded() {
    const db = new DatabaseSync(':memory:');
    migrate(db, migrations);
    const owner = { pid: 1, boot: 'x' };
    const ok = (id: string, jobName: string, scheduledAt: string) => {
      insertRun(
        db,
        {
          id,
          job: jobName,
          kind: 'backup',
          trigger: 'schedule',
          attempt: 1,
          scheduledAt,
          queuedAt: scheduledAt,
          startedAt: scheduledAt,
        },
        owner,
      );
      db.prepare("UPDATE runs SET outcome = 'ok', finished_at = ? WHERE id = ?").run(scheduledAt, id);
    };
    ok('old', 'missed', '2026-01-04T02:00:00.000Z');
    ok('fresh', 'current', '2026-01-05T02:00:00.000Z');
    ok('old2', 'optout', '2026-01-04T02:00:00.000Z');
    db.prepare('INSERT INTO daemon_jobs (job, first_seen) VALUES (?, ?)').run(
      'neverran',
      '2026-01-01T00:00:00.000Z',
    );
    insertRun(
      db,
      {
        id: 'lost',
        job: 'crashed',
        kind: 'backup',
        trigger: 'manual',
        attempt: 1,
        queuedAt: '2026-01-05T11:00:00.000Z',
        startedAt: '2026-01-05T11:00:00.000Z',
      },
      owner,
    );
    return db;
  }

  it('runs once at start a job whose last success is older than a schedule period', async () => {
    const cron = '0 2 * * *';
    const h = harness(
      {
        jobs: {
          missed: job('h1', cron),
          current: job('h2', cron),
          optout: job('h3', cron, { catchUp: false }),
          neverran: job('h4', cron),
          brandnew: job('h5', cron),
          crashed: job('h6', undefined),
        },
      },
      { db: seeded() },
    );
    await h.clock.advance(1000);
    expect(h.calls.map((c) => c.job).sort()).toEqual(['crashed', 'missed', 'neverran']);
    const missed = listRuns(h.db, { job: 'missed' })[0]!;
    expect(missed).toMatchObject({
      trigger: 'catch-up',
      scheduledAt: '2026-01-05T02:00:00.000Z',
      outcome: 'ok',
    });
    expect(getRun(h.db, 'lost')).toMatchObject({
      outcome: 'abandoned',
      error: 'bo stopped while the run was in progress',
    });
    expect(listRuns(h.db, { job: 'crashed' })[0]).toMatchObject({ trigger: 'catch-up', outcome: 'ok' });
    expect(
      h.logs.some(
        (l) => l.msg === 'Run abandoned: bo stopped while it was in progress' && l.runId === 'lost',
      ),
    ).toBe(true);
    // the brand-new job is now known, so a later restart can tell that it missed a run
    expect(h.db.prepare("SELECT first_seen FROM daemon_jobs WHERE job = 'brandnew'").get()).toEqual({
      first_seen: '2026-01-05T12:00:00.000Z',
    });
  });
});

describe('scheduler: requests', () => {
  it('joins a queued or running run instead of starting a second one', async () => {
    const h = harness({ jobs: { j: job('h1', undefined) } }, { behaviour: { j: 'wait' } });
    const first = h.scheduler.request('j');
    const second = h.scheduler.request('j');
    expect(first.alreadyRunning).toBe(false);
    expect(second).toEqual({ runId: first.runId, alreadyRunning: true });
    await h.clock.settle();
    expect(h.scheduler.request('j')).toEqual({ runId: first.runId, alreadyRunning: true });
    expect(h.calls).toHaveLength(1);
    h.calls[0]!.finish();
    await h.clock.settle();
    expect(h.scheduler.request('j').alreadyRunning).toBe(false);
    expect(() => h.scheduler.request('nope')).toThrow(UsageError);
  });

  it('streams progress and the final record to watchers', async () => {
    const h = harness({ jobs: { j: job('h1', undefined) } }, { behaviour: { j: 'wait' } });
    const { runId } = h.scheduler.request('j');
    const seen: string[] = [];
    h.scheduler.watch(runId, {
      onStart: () => seen.push('start'),
      onProgress: (p) => seen.push(`progress ${p.bytes}`),
      onDone: (r) => seen.push(`done ${r.outcome}`),
    });
    await h.clock.settle();
    h.calls[0]!.ctx.onProgress?.({ phase: 'streaming', bytes: 5, files: 1 });
    expect(h.scheduler.snapshot().jobs[0]?.run?.progress).toMatchObject({ bytes: 5 });
    h.calls[0]!.finish();
    await h.clock.settle();
    expect(seen).toEqual(['progress 5', 'done ok']); // it had started before anyone watched
  });

  it('cancels a running run on request', async () => {
    const h = harness({ jobs: { j: job('h1', undefined) } }, { behaviour: { j: 'wait' } });
    const { runId } = h.scheduler.request('j');
    await h.clock.settle();
    expect(h.scheduler.cancel(runId)).toBe(true);
    await h.clock.settle();
    expect(getRun(h.db, runId)).toMatchObject({ outcome: 'cancelled' });
  });
});

describe('scheduler: logs', () => {
  it('puts runId, job and host on the lines of a run', async () => {
    const h = harness({ jobs: { j: job('h1', undefined) } }, { behaviour: { j: 'fail' } });
    const { runId } = h.scheduler.request('j');
    await h.clock.settle();
    const lines = h.logs.filter((l) => l.runId === runId);
    expect(lines.map((l) => l.msg)).toEqual(['Run queued', 'Run started', 'Run failed']);
    for (const l of lines) expect(l).toMatchObject({ job: 'j', host: 'h1', kind: 'backup' });
  });
});

describe('scheduler: stop', () => {
  it('stops scheduling, lets runs finish within the grace, cancels the rest and records it', async () => {
    const h = harness(
      {
        daemon: { concurrency: 1 },
        jobs: { quick: job('h1', undefined), slow: job('h2', undefined), waiting: job('h3', undefined) },
      },
      { behaviour: { quick: 'wait', slow: 'wait', waiting: 'wait' } },
    );
    h.scheduler.request('quick');
    await h.clock.settle();
    h.scheduler.request('waiting');
    const stopped = h.scheduler.stop(60_000);
    await h.clock.advance(10_000);
    h.calls[0]!.finish();
    await stopped;
    const byJob = Object.fromEntries(listRuns(h.db).map((r) => [r.job, r.outcome]));
    expect(byJob).toEqual({ quick: 'ok', waiting: 'cancelled' });
    expect(() => h.scheduler.request('slow')).toThrow(/shutting down/);
  });

  it('cancels runs still going when the grace period is over', async () => {
    const h = harness({ jobs: { slow: job('h1', '* * * * *') } }, { behaviour: { slow: 'wait' } });
    await h.clock.advance(MIN);
    const stopped = h.scheduler.stop(60_000);
    await h.clock.advance(59_000);
    expect(h.calls[0]!.ctx.signal.aborted).toBe(false);
    await h.clock.advance(1_000);
    await stopped;
    expect(h.calls[0]!.ctx.signal.aborted).toBe(true);
    expect(listRuns(h.db)[0]).toMatchObject({ outcome: 'cancelled' });
    await h.clock.advance(10 * MIN);
    expect(h.calls).toHaveLength(1);
  });
});

describe('scheduler: reload', () => {
  it('applies a new config without dropping running runs', async () => {
    const h = harness(
      { jobs: { keep: job('h1', '0 2 * * *'), gone: job('h2', undefined) } },
      { behaviour: { gone: 'wait' } },
    );
    h.scheduler.request('gone');
    await h.clock.settle();
    const next = parseConfig({
      daemon: { concurrency: 8 },
      jobs: { keep: job('h1', '30 * * * *'), added: job('h3', '0 * * * *') },
    });
    const services = h.servicesFor(next);
    h.scheduler.update(next, services);
    const snap = h.scheduler.snapshot();
    expect(snap.limits.concurrency).toBe(8);
    expect(Object.fromEntries(snap.jobs.map((j) => [j.job, j.nextRunAt]))).toEqual({
      keep: '2026-01-05T12:30:00.000Z',
      added: '2026-01-05T13:00:00.000Z',
    });
    expect((h.services as { closed?: boolean }).closed).toBe(false); // still used by the running run
    h.calls[0]!.finish();
    await h.clock.advance(HOUR);
    expect((h.services as { closed?: boolean }).closed).toBe(true);
    expect(listRuns(h.db, { job: 'gone' })[0]).toMatchObject({ outcome: 'ok' });
    expect(h.calls.map((c) => `${c.job}@${c.at.slice(11, 16)}`)).toEqual([
      'gone@12:00',
      'keep@12:30',
      'added@13:00',
    ]);
    expect(h.calls[1]!.ctx.services).toBe(services);
  });
});
