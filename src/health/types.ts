/** Outcome of one check: ok, warn, crit, or unknown when it could not be measured. */
export type Status = 'ok' | 'warn' | 'crit' | 'unknown';

/** Worst first: the order reports and `bo health` list results in. */
export const STATUS_ORDER: readonly Status[] = ['crit', 'warn', 'unknown', 'ok'];

/** What a check found on one host for one subject (a mount, a port, a unit…). */
export interface CheckResult {
  host: string;
  /** Check name from the registry, e.g. "disk"; "reachable" for the SSH probe itself. */
  check: string;
  /** What was measured on the host: "/srv", "25", "nginx.service"; "" when the check has one result. */
  subject: string;
  status: Status;
  /** The measured value the thresholds were held against. */
  value?: number;
  /** Unit of `value` and the thresholds: "%", "load/core", "days", "ms", "messages"… */
  unit?: string;
  /** The thresholds in force; `below` when lower values are worse (days to certificate expiry). */
  threshold?: { warn?: number; crit?: number; below?: boolean };
  /** One line telling on-call what is wrong and where to look. */
  message: string;
  /** Extra measurements kept in the history (bytes used, available…), e.g. for the disk forecast. */
  data?: Record<string, number | string | boolean>;
}

/**
 * Nagios/Icinga plugin codes: `bo health` exits with the code of the run's overall status, and
 * /metrics exports the same codes (bo_health_status, bo_health_overall_status). One rule for both.
 */
export const STATUS_CODE = { ok: 0, warn: 1, crit: 2, unknown: 3 } as const satisfies Record<Status, number>;

export function statusRank(s: Status): number {
  return STATUS_ORDER.indexOf(s);
}

/** The worse of statuses for reporting: crit > warn > unknown > ok. */
export function worst(statuses: Iterable<Status>): Status {
  let w: Status = 'ok';
  for (const s of statuses) if (statusRank(s) < statusRank(w)) w = s;
  return w;
}

/** Worst first, then host, check and subject, so output is stable between runs. */
export function compareResults(a: CheckResult, b: CheckResult): number {
  return (
    statusRank(a.status) - statusRank(b.status) ||
    a.host.localeCompare(b.host) ||
    a.check.localeCompare(b.check) ||
    a.subject.localeCompare(b.subject, undefined, { numeric: true })
  );
}

/** The identity a result keeps across runs (history, alert state, report changes). */
export function resultKey(r: Pick<CheckResult, 'host' | 'check' | 'subject'>): string {
  return `${r.host}\0${r.check}\0${r.subject}`;
}

export interface StatusCounts {
  ok: number;
  warn: number;
  crit: number;
  unknown: number;
}

/**
 * A whole run's status: crit if any result is critical, else warn if any warns, else unknown if
 * any could not be measured, else ok (the Monitoring Plugins rule; unknown never hides as ok).
 */
export function overallStatus(c: StatusCounts): Status {
  return worst(STATUS_ORDER.filter((s) => c[s] > 0));
}

export function countStatuses(results: Iterable<{ status: Status }>): StatusCounts {
  const c: StatusCounts = { ok: 0, warn: 0, crit: 0, unknown: 0 };
  for (const r of results) c[r.status]++;
  return c;
}
