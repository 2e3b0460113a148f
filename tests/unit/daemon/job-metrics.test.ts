import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/catalog/runs.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { newestBackup, registerJobMetrics } from '../../../src/daemon/job-metrics.ts';
import type { BackupRow } from '../../../src/health/report.ts';

const config = parseResolved(Config, {
  storage: { repo: { type: 'filesystem', path: '/srv/repo' } },
  jobs: {
    share: { host: 'local', paths: ['/srv'], storage: 'repo' },
    elsewhere: { host: 'local', paths: ['/etc'], storage: 'repo' },
    snap: { kind: 'snapshot', host: 'local', provider: 'btrfs', volume: '/srv' },
    check: { kind: 'verify' },
    tidy: { kind: 'prune' },
    rehearse: { kind: 'drill' },
    fleet: { kind: 'health' },
  },
});

function run(
  job: string,
  kind: string,
  startedAt: string,
  finishedAt: string,
  extra: Partial<RunRecord> = {},
): RunRecord {
  return {
    id: job,
    job,
    kind,
    trigger: 'schedule',
    attempt: 1,
    queuedAt: startedAt,
    startedAt,
    finishedAt,
    outcome: 'ok',
    ...extra,
  };
}

describe('job metrics from the run history', () => {
  it('every job kind has its last success and its duration; backups their sizes, without any report', async () => {
    const runs = new Map(
      [
        run('share', 'backup', '2026-01-01T02:00:00Z', '2026-01-01T02:10:00Z', {
          bytes: 4096,
          storedBytes: 1500,
        }),
        run('snap', 'snapshot', '2026-01-01T01:00:00Z', '2026-01-01T01:00:02Z'),
        run('check', 'verify', '2026-01-01T03:00:00Z', '2026-01-01T03:01:00Z'),
        run('tidy', 'prune', '2026-01-01T04:00:00Z', '2026-01-01T04:00:30Z'),
        run('rehearse', 'drill', '2026-01-01T05:00:00Z', '2026-01-01T05:05:00Z'),
        run('fleet', 'health', '2026-01-01T06:00:00Z', '2026-01-01T06:00:04Z'),
        run('removed', 'backup', '2026-01-01T06:00:00Z', '2026-01-01T06:00:04Z'),
      ].map((r) => [r.job, r]),
    );
    const registry = new Registry();
    registerJobMetrics(registry, {
      jobs: () => config.jobs,
      lastSuccess: () => runs,
      reportBackups: () => [],
    });
    const text = await registry.metrics();
    const t = (iso: string) => Date.parse(iso) / 1000;
    for (const [job, kind, at, took] of [
      ['share', 'backup', '2026-01-01T02:10:00Z', 600],
      ['snap', 'snapshot', '2026-01-01T01:00:02Z', 2],
      ['check', 'verify', '2026-01-01T03:01:00Z', 60],
      ['tidy', 'prune', '2026-01-01T04:00:30Z', 30],
      ['rehearse', 'drill', '2026-01-01T05:05:00Z', 300],
      ['fleet', 'health', '2026-01-01T06:00:04Z', 4],
    ] as const) {
      expect(text).toContain(`bo_job_last_success_timestamp_seconds{job="${job}",kind="${kind}"} ${t(at)}`);
      expect(text).toContain(`bo_job_last_success_duration_seconds{job="${job}",kind="${kind}"} ${took}`);
    }
    expect(text).toContain(
      `bo_backup_last_success_timestamp_seconds{job="share"} ${t('2026-01-01T02:10:00Z')}`,
    );
    expect(text).toContain('bo_backup_source_bytes{job="share"} 4096');
    expect(text).toContain('bo_backup_stored_bytes{job="share"} 1500');
    // A job no longer configured, and one that never succeeded, have no samples.
    expect(text).not.toContain('removed');
    expect(text).not.toMatch(/job="elsewhere"/);
  });

  it('a manifest newer than the newest successful run (a backup made elsewhere) wins', () => {
    const r = run('share', 'backup', '2026-01-01T02:00:00Z', '2026-01-01T02:10:00Z', {
      bytes: 10,
      storedBytes: 5,
    });
    const row = {
      job: 'share',
      lastGood: '2026-01-02T02:00:00Z',
      sourceBytes: 20,
      storedBytes: 8,
    } as BackupRow;
    expect(newestBackup(r, row)).toEqual({
      at: Date.parse('2026-01-02T02:00:00Z') / 1000,
      sourceBytes: 20,
      storedBytes: 8,
    });
    // The same backup seen by both (its manifest moments before its run ended): the run's figures.
    const same = { ...row, lastGood: '2026-01-01T02:09:58Z' };
    expect(newestBackup(r, same)).toMatchObject({ sourceBytes: 10, storedBytes: 5 });
    expect(newestBackup(undefined, row)).toMatchObject({ sourceBytes: 20 });
    expect(newestBackup(undefined, undefined)).toBeUndefined();
  });
});
