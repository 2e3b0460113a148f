import { describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config, HealthCheckSpec } from '../../../src/config/schema.ts';
import { judgeSnapshots } from '../../../src/health/checks/snapshot-freshness.ts';
import { planHealth } from '../../../src/health/plan.ts';
import { type SnapshotStatus, snapshotStatuses } from '../../../src/health/snapshots.ts';

const H = 3_600_000;
const now = new Date('2025-11-22T12:00:00Z');
const ago = (h: number) => new Date(now.getTime() - h * H).toISOString();
const spec = (o: Record<string, unknown> = {}) =>
  HealthCheckSpec.parse({ check: 'snapshot-freshness', ...o }) as Extract<
    HealthCheckSpec,
    { check: 'snapshot-freshness' }
  >;
const hourly = (o: Partial<SnapshotStatus> = {}): SnapshotStatus => ({
  job: 'data-snap',
  kind: 'snapshot',
  host: 'files1',
  schedule: '0 * * * *',
  ...o,
});

describe('snapshot-freshness', () => {
  it('hourly job: ok within period + grace, warn overdue, crit twice overdue', () => {
    // Period 1 h, grace half of it: overdue after 1.5 h.
    expect(judgeSnapshots(hourly({ lastOk: { at: ago(1.2) } }), spec(), now)).toMatchObject({
      status: 'ok',
      host: 'files1',
      check: 'snapshot-freshness',
      subject: 'data-snap',
      unit: 's',
      threshold: { warn: 5400, crit: 10800 },
      message: 'data-snap: last snapshot 72m ago',
    });
    const late = judgeSnapshots(hourly({ lastOk: { at: ago(2) } }), spec(), now);
    expect(late.status).toBe('warn');
    expect(late.message).toMatch(
      /overdue \(expected within 2h\); see `bo status`, then `bo snapshot now data-snap`/,
    );
    expect(judgeSnapshots(hourly({ lastOk: { at: ago(3.5) } }), spec(), now).status).toBe('crit');
    expect(judgeSnapshots(hourly({ lastOk: { at: ago(3.5) } }), spec({ maxAge: '4h' }), now).status).toBe(
      'ok',
    );
  });

  it('a newer failed run warns even when the last good one is recent, with its error', () => {
    const r = judgeSnapshots(
      hourly({
        lastOk: { at: ago(1) },
        last: { at: ago(0.1), outcome: 'failed', error: 'ERROR: not a subvolume' },
      }),
      spec(),
      now,
    );
    expect(r.status).toBe('warn');
    expect(r.message).toMatch(/newest run FAILED 6m ago: ERROR: not a subvolume/);
    // A cancelled run (shutdown) is nobody's failure.
    const c = judgeSnapshots(
      hourly({ lastOk: { at: ago(1) }, last: { at: ago(0.1), outcome: 'cancelled' } }),
      spec(),
      now,
    );
    expect(c.status).toBe('ok');
  });

  it('never succeeded: crit, unless the daemon only just scheduled it; unknown without a schedule or history', () => {
    expect(judgeSnapshots(hourly(), spec(), now)).toMatchObject({
      status: 'crit',
      message:
        'data-snap: no successful snapshot recorded yet; run `bo snapshot now data-snap` and check its log',
    });
    expect(judgeSnapshots(hourly({ firstSeen: ago(0.5) }), spec(), now)).toMatchObject({
      status: 'ok',
      message: 'data-snap: no successful snapshot recorded yet; not due yet (scheduled 30m ago)',
    });
    expect(judgeSnapshots(hourly({ schedule: undefined }), spec(), now).status).toBe('unknown');
    const backup = judgeSnapshots(
      hourly({ kind: 'backup', job: 'db', error: 'no state database (run history) to read' }),
      spec(),
      now,
    );
    expect(backup).toMatchObject({
      status: 'unknown',
      message: 'db: cannot tell: no state database (run history) to read',
    });
    expect(judgeSnapshots(hourly({ kind: 'backup', job: 'db' }), spec(), now).message).toMatch(
      /no successful backup from a snapshot .* `bo backup now db`/,
    );
  });

  it('planned by default for snapshot jobs and backup jobs with snapshot:, not plain backups', () => {
    const config = parseResolved(Config, {
      hosts: { files1: { address: '10.0.0.1', privateKey: '/k', roles: ['storage'] } },
      storage: { s: { type: 'filesystem', path: '/r' } },
      jobs: {
        'data-snap': {
          kind: 'snapshot',
          host: 'files1',
          provider: 'btrfs',
          volume: '/srv/data',
          schedule: '0 * * * *',
        },
        'data-backup': {
          host: 'files1',
          paths: ['/srv/data'],
          storage: 's',
          snapshot: { provider: 'btrfs', volume: '/srv/data' },
        },
        plain: { host: 'files1', paths: ['/etc'], storage: 's' },
      },
      health: { checks: [{ check: 'snapshot-freshness', jobs: ['data-snap'], maxAge: '3h' }] },
    });
    const plan = planHealth(config);
    expect(plan.snapshots.map((s) => [s.job, s.spec.maxAge])).toEqual([
      ['data-snap', 3 * H],
      ['data-backup', undefined],
    ]);
    expect(plan.backups.map((b) => b.job)).toEqual(['data-backup', 'plain']);
    // No host runs snapshot-freshness as a probe.
    expect(plan.hosts[0]!.specs.map((s) => s.check)).not.toContain('snapshot-freshness');
    const statuses = snapshotStatuses(config, ['data-snap', 'plain'], {
      lastOk: new Map([['data-snap', { finishedAt: ago(1), summary: 'created' }]]),
      last: new Map([['data-snap', { finishedAt: ago(1), outcome: 'ok' as const }]]),
      firstSeen: new Map(),
    });
    expect(statuses).toEqual([
      {
        job: 'data-snap',
        kind: 'snapshot',
        host: 'files1',
        schedule: '0 * * * *',
        lastOk: { at: ago(1), summary: 'created' },
      },
    ]);
  });
});
