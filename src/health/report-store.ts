import type { StateDb } from '../catalog/db.ts';
import { statusesAt } from './history.ts';
import { REPORT_FORMAT, REPORT_VERSION, type Report } from './report.ts';
import { type CheckResult, resultKey, type Status } from './types.ts';

/** Where a report came from: `bo report` (cli) or the daemon's health job. */
export type ReportOrigin = 'cli' | 'daemon';

const KEEP = 20;

/** Stores a report, keeping the newest few per origin. */
export function saveReport(db: StateDb, report: Report, origin: ReportOrigin): void {
  db.prepare('INSERT INTO health_reports (at, origin, report) VALUES (?, ?, ?)').run(
    Date.parse(report.generatedAt),
    origin,
    JSON.stringify(report),
  );
  db.prepare(
    `DELETE FROM health_reports WHERE origin = ? AND id NOT IN
       (SELECT id FROM health_reports WHERE origin = ? ORDER BY at DESC, id DESC LIMIT ?)`,
  ).run(origin, origin, KEEP);
}

/** The newest stored report (of an origin, or any) that this bo can render. */
export function latestReport(db: StateDb, origin?: ReportOrigin): Report | undefined {
  const report = newestStored(db, origin);
  // A report stored by an older bo lacks newer fields: the next health run stores a current one.
  return report?.version === REPORT_VERSION ? report : undefined;
}

/** The newest stored report of any version: its hosts' statuses read the same in each. */
function newestStored(db: StateDb, origin?: ReportOrigin): Report | undefined {
  const row = (
    origin
      ? db
          .prepare('SELECT report FROM health_reports WHERE origin = ? ORDER BY at DESC, id DESC LIMIT 1')
          .get(origin)
      : db.prepare('SELECT report FROM health_reports ORDER BY at DESC, id DESC LIMIT 1').get()
  ) as { report: string } | undefined;
  if (!row) return undefined;
  const report = JSON.parse(row.report) as Report;
  return report.format === REPORT_FORMAT ? report : undefined;
}

const DAY = 86_400_000;

/**
 * What "changes since the previous report" compares against. `bo report` (cli): the previous
 * `bo report`. The daemon, which reports after every run: the statuses of 24 hours ago, from the
 * history, or of its earliest results while the history is younger than that (a health job every
 * minute has something to compare with from its second run on, not after a day). `at` is absent
 * when there is nothing to compare with yet. Call it before recording the current results.
 */
export function previousStatuses(
  db: StateDb,
  origin: ReportOrigin,
  results: readonly CheckResult[],
  now: number,
): { at?: string; statuses: Map<string, Status> } {
  if (origin === 'cli') {
    const prev = newestStored(db, 'cli');
    if (!prev) return { statuses: new Map() };
    const statuses = new Map<string, Status>();
    for (const h of prev.hosts) for (const r of h.results) statuses.set(resultKey(r), r.status);
    return { at: prev.generatedAt, statuses };
  }
  const first = (db.prepare('SELECT MIN(at) AS at FROM health_results').get() as { at: number | null }).at;
  if (first === null || first >= now) return { statuses: new Map() };
  const at = Math.max(now - DAY, first);
  return { at: new Date(at).toISOString(), statuses: statusesAt(db, results, at) };
}
