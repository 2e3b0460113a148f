import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openStateDb } from '../../../src/catalog/db.ts';
import { performHealth } from '../../../src/health/service.ts';
import { stateDbHistory } from '../../../src/jobs/history.ts';
import { silentLogger } from '../../../src/log.ts';
import { testConfig, testServices } from './env.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const H = 3_600_000;

describe('snapshot freshness from the state database', () => {
  it('reads the run history the CLI and daemon record: fresh ok, overdue warn, failed newest run, never ran', async () => {
    const env = testConfig({
      storage: { s: { type: 'filesystem', path: '/proc/bo-no-repo' } },
      jobs: {
        fresh: {
          kind: 'snapshot',
          host: 'local',
          provider: 'btrfs',
          volume: '/srv/a',
          schedule: '0 * * * *',
        },
        stale: {
          kind: 'snapshot',
          host: 'local',
          provider: 'btrfs',
          volume: '/srv/b',
          schedule: '0 * * * *',
        },
        broken: {
          kind: 'snapshot',
          host: 'local',
          provider: 'btrfs',
          volume: '/srv/c',
          schedule: '0 * * * *',
        },
        never: {
          host: 'local',
          paths: ['/srv/d'],
          storage: 's',
          schedule: '0 3 * * *',
          snapshot: { provider: 'btrfs', volume: '/srv/d' },
        },
      },
      health: { defaults: false, checks: [{ check: 'snapshot-freshness' }] },
    });
    cleanups.push(env.cleanup);
    const db = openStateDb(env.config.stateDir);
    const history = stateDbHistory(db);
    const record = (job: string, hoursAgo: number, outcome: 'ok' | 'failed', error?: string) => {
      const at = new Date(Date.now() - hoursAgo * H).toISOString();
      const id = randomUUID();
      history.started({
        id,
        job,
        kind: 'snapshot',
        trigger: 'manual',
        attempt: 1,
        queuedAt: at,
        startedAt: at,
      });
      history.finished(id, {
        finishedAt: at,
        outcome,
        ...(error ? { error } : { summary: `${job}: snapshot created` }),
      });
    };
    record('fresh', 0.5, 'ok');
    record('stale', 2, 'ok');
    record('broken', 1, 'ok');
    record('broken', 0.2, 'failed', 'ERROR: cannot snapshot /srv/c: not a btrfs subvolume');
    db.close();

    const services = testServices(env.config);
    cleanups.push(() => services.close());
    const { run } = await performHealth(services, {
      log: silentLogger(),
      signal: new AbortController().signal,
    });
    const rs = run.hosts.flatMap((h) => h.results).filter((r) => r.check === 'snapshot-freshness');
    const by = Object.fromEntries(rs.map((r) => [r.subject, r]));
    expect(Object.keys(by).sort()).toEqual(['broken', 'fresh', 'never', 'stale']);
    expect(by.fresh).toMatchObject({ host: 'local', status: 'ok', message: 'fresh: last snapshot 30m ago' });
    expect(by.stale).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/^stale: last snapshot 2h ago; overdue/),
    });
    expect(by.broken).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(
        /newest run FAILED 12m ago: ERROR: cannot snapshot \/srv\/c: not a btrfs subvolume/,
      ),
    });
    expect(by.never).toMatchObject({
      status: 'crit',
      message:
        'never: no successful backup from a snapshot recorded yet; run `bo backup now never` and check its log',
    });
    expect(run.snapshots.map((s) => s.job).sort()).toEqual(['broken', 'fresh', 'never', 'stale']);
  });
});
