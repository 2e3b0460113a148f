import type { FleetCheck, SpecOf } from '../check.ts';
import { span } from '../format.ts';
import { overdueAfterMs, overdueThreshold } from '../schedule.ts';
import type { SnapshotStatus } from '../snapshots.ts';
import { type CheckResult, type Status, worst } from '../types.ts';

/**
 * The last successful run of each snapshot job (and backup job with `snapshot:`) against its
 * schedule: overdue → warn, twice overdue → crit; a newer run that failed is at least a warning.
 */
export const snapshotFreshnessCheck: FleetCheck<'snapshot-freshness'> = {
  type: 'fleet',
  name: 'snapshot-freshness',
  evaluate(spec, ctx) {
    return ctx.snapshots
      .filter((s) => !spec.jobs || spec.jobs.includes(s.job))
      .map((s) => judgeSnapshots(s, spec, ctx.now));
  },
};

export function judgeSnapshots(
  s: SnapshotStatus,
  spec: SpecOf<'snapshot-freshness'>,
  now: Date,
): CheckResult {
  const base = { host: s.host, check: 'snapshot-freshness', subject: s.job };
  const what = s.kind === 'snapshot' ? 'snapshot' : 'backup from a snapshot';
  const fix = s.kind === 'snapshot' ? `bo snapshot now ${s.job}` : `bo backup now ${s.job}`;
  if (s.error) return { ...base, status: 'unknown', message: `${s.job}: cannot tell: ${s.error}` };
  const limit = overdueAfterMs(spec, s.schedule, s.timezone);
  const failed = s.last && s.last.outcome !== 'ok' && s.last.outcome !== 'cancelled' ? s.last : undefined;
  const failure = failed
    ? `newest run ${failed.outcome.toUpperCase()} ${span(now.getTime() - Date.parse(failed.at))} ago${failed.error ? `: ${failed.error}` : ''}`
    : undefined;
  const threshold = overdueThreshold(limit);
  if (!s.lastOk) {
    const sinceFirst = s.firstSeen ? now.getTime() - Date.parse(s.firstSeen) : undefined;
    const notDue = limit !== undefined && sinceFirst !== undefined && sinceFirst <= limit && !failed;
    const status: Status = notDue ? 'ok' : limit === undefined ? 'unknown' : 'crit';
    const parts = [`${s.job}: no successful ${what} recorded yet`];
    if (notDue) parts.push(`not due yet (scheduled ${span(sinceFirst)} ago)`);
    if (failure) parts.push(failure);
    if (!notDue) parts.push(`run \`${fix}\` and check its log`);
    return { ...base, status, ...(threshold ? { threshold } : {}), message: parts.join('; ') };
  }
  const age = now.getTime() - Date.parse(s.lastOk.at);
  let status: Status =
    limit === undefined ? 'unknown' : age > 2 * limit ? 'crit' : age > limit ? 'warn' : 'ok';
  const parts = [`${s.job}: last ${what} ${span(age)} ago`];
  if (limit === undefined) parts.push('no schedule and no maxAge: cannot tell when it is overdue');
  else if (status !== 'ok') parts.push(`overdue (expected within ${span(limit)})`);
  if (failure) {
    status = worst([status, 'warn']);
    parts.push(failure);
  }
  if (status !== 'ok' && status !== 'unknown') parts.push(`see \`bo status\`, then \`${fix}\``);
  return {
    ...base,
    status,
    value: Math.round(age / 1000),
    unit: 's',
    ...(threshold ? { threshold } : {}),
    message: parts.join('; '),
  };
}
