import type { BackupStatus, ChainSummary } from './backups.ts';
import { plural } from './format.ts';
import type { HealthRun } from './run.ts';
import type { RunProblem } from './runs.ts';
import {
  type CheckResult,
  countStatuses,
  resultKey,
  type Status,
  type StatusCounts,
  worst,
} from './types.ts';

export const REPORT_FORMAT = 'bo-health-report';
/** 2: backups carry sourceBytes/storedBytes/sourceSizes (was sizeBytes/sizes, the archive only), and runs. */
export const REPORT_VERSION = 2;

export interface HostSection {
  host: string;
  address: string;
  roles: string[];
  /** Worst status of the host's results. */
  status: Status;
  reachable: boolean;
  /** Worst first. */
  results: CheckResult[];
}

export interface BackupRow {
  job: string;
  host: string;
  storage: string;
  /** The job's backup-freshness status. */
  status: Status;
  message: string;
  /** finishedAt of the newest backup. */
  lastGood?: string;
  ageMs?: number;
  /** The newest backup's source and stored bytes (src/sizes.ts). */
  sourceBytes?: number;
  storedBytes?: number;
  /** Source bytes of recent backups, oldest first. */
  sourceSizes: number[];
  /** Newest source bytes vs the backup before: +0.03 = 3% larger. */
  trend?: number;
  count: number;
  /** Newest successful verify / restore drill (ISO), and whether the newest attempt passed. */
  verified?: { at?: string; lastOk: boolean };
  drilled?: { at?: string; lastOk: boolean };
  /** Each copy's lag behind the job's storage (0: up to date), or why it could not be listed. */
  copies?: Array<{ storage: string; lagMs?: number; missing?: number; error?: string }>;
  /** The newest backup's incremental chain (absent for standalone archives). */
  chain?: ChainSummary;
}

export interface Change {
  host: string;
  check: string;
  subject: string;
  /** "new" when the check had no result at the previous report. */
  from: Status | 'new';
  to: Status;
  message: string;
}

/** The on-call report: JSON is the model; md and html render it. Keep stable (format/version). */
export interface Report {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  generatedAt: string;
  durationMs: number;
  summary: StatusCounts & { hosts: number; line: string };
  hosts: HostSection[];
  backups: BackupRow[];
  /** Jobs whose newest run failed, was cancelled or abandoned, newest first. */
  runs: RunProblem[];
  changes: { since?: string; items: Change[] };
}

/** "2 crit, 3 warn on 14 hosts" / "all ok on 14 hosts". */
export function summaryLine(c: StatusCounts, hosts: number): string {
  const parts = (['crit', 'warn', 'unknown'] as const).filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
  const on = `on ${plural(hosts, 'host')}`;
  return parts.length === 0 ? `all ${c.ok} checks ok ${on}` : `${parts.join(', ')} ${on}`;
}

/** Builds the report from a run and the statuses the checks had at the previous report. Pure. */
export function buildReport(
  run: HealthRun,
  previous: { at?: string; statuses: ReadonlyMap<string, Status> } = { statuses: new Map() },
): Report {
  const results = run.hosts.flatMap((h) => h.results);
  const counts = countStatuses(results);
  const hosts = run.hosts.map((h) => ({
    host: h.host,
    address: h.address,
    roles: h.roles,
    status: worst(h.results.map((r) => r.status)),
    reachable: h.reachable,
    results: h.results,
  }));
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    generatedAt: run.finishedAt,
    durationMs: run.durationMs,
    summary: { ...counts, hosts: hosts.length, line: summaryLine(counts, hosts.length) },
    hosts,
    backups: run.backups.map((b) => backupRow(b, results, Date.parse(run.finishedAt))),
    runs: run.runs,
    changes: { ...(previous.at ? { since: previous.at } : {}), items: diffChanges(results, previous) },
  };
}

function diffChanges(
  results: CheckResult[],
  previous: { at?: string; statuses: ReadonlyMap<string, Status> },
): Change[] {
  if (!previous.at) return [];
  const out: Change[] = [];
  for (const r of results) {
    const before = previous.statuses.get(resultKey(r));
    if (before === r.status) continue;
    // New checks that are fine are not news.
    if (before === undefined && r.status === 'ok') continue;
    out.push({
      host: r.host,
      check: r.check,
      subject: r.subject,
      from: before ?? 'new',
      to: r.status,
      message: r.message,
    });
  }
  return out;
}

function backupRow(b: BackupStatus, results: CheckResult[], now: number): BackupRow {
  const r = results.find((x) => x.check === 'backup-freshness' && x.subject === b.job);
  const row: BackupRow = {
    job: b.job,
    host: b.host,
    storage: b.storage,
    status: r?.status ?? 'unknown',
    message: r?.message ?? b.error ?? 'not judged: no backup-freshness check applies to this job',
    sourceSizes: b.sourceSizes,
    count: b.count,
  };
  if (b.last) {
    row.lastGood = b.last.finishedAt;
    row.ageMs = now - Date.parse(b.last.finishedAt);
    row.sourceBytes = b.last.sourceBytes;
    row.storedBytes = b.last.storedBytes;
  }
  for (const [key, p] of [
    ['verified', b.proofs?.verify],
    ['drilled', b.proofs?.drill],
  ] as const) {
    if (p) row[key] = { lastOk: p.lastOk, ...(p.okAt ? { at: p.okAt } : {}) };
  }
  if (b.copies)
    row.copies = b.copies.map((c) => ({
      storage: c.storage,
      ...(c.error ? { error: c.error } : { lagMs: c.lagMs ?? 0, missing: c.missing ?? 0 }),
    }));
  if (b.chain) row.chain = b.chain;
  if (b.sourceSizes.length >= 2) {
    const prev = b.sourceSizes.at(-2)!;
    if (prev > 0) row.trend = (b.sourceSizes.at(-1)! - prev) / prev;
  }
  return row;
}
