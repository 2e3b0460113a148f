import { Gauge, type Registry } from 'prom-client';
import type { RunRecord } from '../catalog/runs.ts';
import type { Config } from '../config/schema.ts';
import { oncePerScrape } from '../health/metrics.ts';
import type { BackupRow } from '../health/report.ts';

/** Where the job gauges read from at scrape time: the daemon's state database. */
export interface JobMetricsSource {
  /** The jobs of the running config (after reloads). */
  jobs(): Config['jobs'];
  /** The newest successful run of each job, from the run history. */
  lastSuccess(): ReadonlyMap<string, RunRecord>;
  /** Backup rows of the latest health report (its manifests), or none without a report. */
  reportBackups(): readonly BackupRow[];
}

/** The newest backup of a job: when it finished, its source and stored bytes (src/sizes.ts). */
export interface NewestBackup {
  at: number;
  sourceBytes?: number | undefined;
  storedBytes?: number | undefined;
}

/**
 * Gauges of every configured job, whatever jobs exist (no health job needed), read from the run
 * history at scrape time: bo_job_last_success_timestamp_seconds{job,kind} and
 * bo_job_last_success_duration_seconds{job,kind} for every kind (backup, snapshot, verify,
 * prune, drill, health); and per backup job bo_backup_last_success_timestamp_seconds{job},
 * bo_backup_source_bytes{job} and bo_backup_stored_bytes{job}, from the newest successful backup
 * run or, when newer, the newest manifest the latest health report listed (a backup made
 * elsewhere). The sources are read once per scrape.
 */
export function registerJobMetrics(registry: Registry, source: JobMetricsSource): void {
  const registers = [registry];
  const read = oncePerScrape(() => ({
    jobs: source.jobs(),
    runs: source.lastSuccess(),
    rows: source.reportBackups(),
  }));
  const successes = function* () {
    const { jobs, runs } = read();
    for (const [job, cfg] of Object.entries(jobs)) {
      const r = runs.get(job);
      if (r?.finishedAt) yield { labels: { job, kind: cfg.kind }, run: r, finishedAt: r.finishedAt };
    }
  };
  new Gauge({
    name: 'bo_job_last_success_timestamp_seconds',
    help: 'When the newest successful run of each job finished, from the run history',
    labelNames: ['job', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const s of successes()) this.set(s.labels, Date.parse(s.finishedAt) / 1000);
    },
  });
  new Gauge({
    name: 'bo_job_last_success_duration_seconds',
    help: 'How long the newest successful run of each job took, from the run history',
    labelNames: ['job', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const s of successes())
        if (s.run.startedAt)
          this.set(s.labels, (Date.parse(s.finishedAt) - Date.parse(s.run.startedAt)) / 1000);
    },
  });
  const backups = () => {
    const { jobs, runs, rows } = read();
    const out: Array<[string, NewestBackup]> = [];
    for (const [job, cfg] of Object.entries(jobs)) {
      if (cfg.kind !== 'backup') continue;
      const newest = newestBackup(
        runs.get(job),
        rows.find((b) => b.job === job),
      );
      if (newest) out.push([job, newest]);
    }
    return out;
  };
  const gauge = (name: string, help: string, value: (b: NewestBackup) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        for (const [job, b] of backups()) {
          const v = value(b);
          if (v !== undefined) this.set({ job }, v);
        }
      },
    });
  gauge(
    'bo_backup_last_success_timestamp_seconds',
    'When the newest backup of each job finished (run history, or a newer manifest)',
    (b) => b.at,
  );
  gauge(
    'bo_backup_source_bytes',
    'Source bytes (file content before compression) of the newest backup of each job',
    (b) => b.sourceBytes,
  );
  gauge(
    'bo_backup_stored_bytes',
    'Stored bytes (archive, index and dumps) of the newest backup of each job',
    (b) => b.storedBytes,
  );
}

/** The newer of the newest successful backup run and the report's newest manifest. Pure. */
export function newestBackup(
  run: RunRecord | undefined,
  row: BackupRow | undefined,
): NewestBackup | undefined {
  const fromRun: NewestBackup | undefined = run?.finishedAt
    ? { at: Date.parse(run.finishedAt) / 1000, sourceBytes: run.bytes, storedBytes: run.storedBytes }
    : undefined;
  const fromReport: NewestBackup | undefined = row?.lastGood
    ? { at: Date.parse(row.lastGood) / 1000, sourceBytes: row.sourceBytes, storedBytes: row.storedBytes }
    : undefined;
  if (!fromRun || !fromReport) return fromRun ?? fromReport;
  // The same backup is seen in both: its run ends moments after its manifest; prefer the run.
  return fromReport.at > fromRun.at + 60 ? fromReport : fromRun;
}
