import { formatSizes } from '../../sizes.ts';
import type { BackupStatus, CopyLagStatus } from '../backups.ts';
import type { FleetCheck, SpecOf } from '../check.ts';
import { span } from '../format.ts';
import type { Proof } from '../proofs.ts';
import { overdueAfterMs, overdueThreshold } from '../schedule.ts';
import { type CheckResult, type Status, worst } from '../types.ts';

/** The newest backup of each job against its schedule: overdue → warn, twice overdue → crit. */
export const backupFreshnessCheck: FleetCheck<'backup-freshness'> = {
  type: 'fleet',
  name: 'backup-freshness',
  evaluate(spec, ctx) {
    return ctx.backups
      .filter((b) => !spec.jobs || spec.jobs.includes(b.job))
      .map((b) => judge(b, spec, ctx.now));
  },
};

export function judge(b: BackupStatus, spec: SpecOf<'backup-freshness'>, now: Date): CheckResult {
  const base = { host: b.host, check: 'backup-freshness', subject: b.job };
  if (b.error)
    return {
      ...base,
      status: 'unknown',
      message: `cannot list backups of ${b.job} in ${b.storage}: ${b.error}`,
    };
  const limit = overdueAfterMs(spec, b.schedule, b.timezone);
  if (!b.last) {
    return {
      ...base,
      status: limit === undefined ? 'unknown' : 'crit',
      message: `${b.job}: no backup in ${b.storage} yet: run \`bo backup now ${b.job}\` and check its log`,
    };
  }
  const age = now.getTime() - Date.parse(b.last.finishedAt);
  const threshold = overdueThreshold(limit);
  let status: Status =
    limit === undefined ? 'unknown' : age > 2 * limit ? 'crit' : age > limit ? 'warn' : 'ok';
  const parts = [
    `${b.job}: last backup ${span(age)} ago (${formatSizes(b.last)}, ${b.last.files} file${b.last.files === 1 ? '' : 's'})`,
  ];
  if (limit === undefined) parts.push('no schedule and no maxAge: cannot tell when it is overdue');
  else if (status !== 'ok')
    parts.push(`overdue (expected within ${span(limit)}): see \`bo status\` and the job log`);
  const shrink = shrinkage(b.sourceSizes);
  if (shrink !== undefined && shrink >= 0.5) {
    if (status === 'ok') status = 'warn';
    parts.push(
      `newest backup's source is ${Math.round(shrink * 100)}% smaller than usual: did a path or mount vanish?`,
    );
  }
  if (b.last.warnings > 0) parts.push(`${b.last.warnings} tar warning(s)`);
  for (const c of b.copies ?? []) {
    const lag = copyLagStatus(c, limit, b.job);
    status = worst([status, lag.status]);
    parts.push(lag.text);
  }
  for (const [kind, label, maxAge, fix] of [
    ['verify', 'verified', spec.verifyMaxAge, 'bo verify'],
    ['drill', 'restore drill', spec.drillMaxAge, 'bo drill'],
  ] as const) {
    const p = proofStatus(b.proofs?.[kind], maxAge, now);
    if (!p) continue;
    status = worst([status, p.status]);
    parts.push(`${label} ${p.text}${p.status !== 'ok' ? `: run \`${fix} ${b.job}\`` : ''}`);
  }
  return {
    ...base,
    status,
    value: Math.round(age / 1000),
    unit: 's',
    ...(threshold ? { threshold } : {}),
    message: parts.join('; '),
    data: { sourceBytes: b.last.sourceBytes, storedBytes: b.last.storedBytes, id: b.last.id },
  };
}

/**
 * A copy's lag against its maxLag (default: the limit for the newest backup itself): overdue
 * warns, twice overdue is critical, an unlistable copy warns.
 */
export function copyLagStatus(
  c: CopyLagStatus,
  jobLimit: number | undefined,
  job: string,
): { status: Status; text: string } {
  if (c.error) return { status: 'warn', text: `copy ${c.storage} cannot be listed: ${c.error}` };
  if (!c.missing || !c.lagMs) return { status: 'ok', text: `copy ${c.storage} up to date` };
  const limit = c.maxLag ?? jobLimit;
  const status: Status =
    limit === undefined ? 'ok' : c.lagMs > 2 * limit ? 'crit' : c.lagMs > limit ? 'warn' : 'ok';
  const behind = `copy ${c.storage} ${span(c.lagMs)} behind (${c.missing} backup${c.missing === 1 ? '' : 's'} to copy)`;
  return {
    status,
    text:
      status === 'ok'
        ? behind
        : `${behind}: overdue (expected within ${span(limit!)}): run \`bo copy ${job} --to ${c.storage}\``,
  };
}

/** How much smaller the newest backup is than the median of the previous ones (0..1), if it is. */
export function shrinkage(sizes: readonly number[]): number | undefined {
  if (sizes.length < 3) return undefined;
  const prev = [...sizes.slice(0, -1)].sort((a, b) => a - b);
  const median = prev[Math.floor(prev.length / 2)]!;
  if (median <= 0) return undefined;
  const last = sizes.at(-1)!;
  return last < median ? (median - last) / median : 0;
}

/**
 * Verify/drill evidence for the message: a failed newest attempt is crit (a stored backup did not
 * check out), a success older than `maxAge` (or none at all) warns. Without `maxAge`, shown only.
 */
export function proofStatus(
  p: Proof | undefined,
  maxAge: number | undefined,
  now: Date,
): { status: Status; text: string } | undefined {
  if (!p) return maxAge === undefined ? undefined : { status: 'warn', text: 'never' };
  if (!p.lastOk)
    return {
      status: 'crit',
      text: `FAILED ${span(now.getTime() - Date.parse(p.lastAt))} ago${p.detail ? ` (${p.detail})` : ''}`,
    };
  const age = now.getTime() - Date.parse(p.okAt ?? p.lastAt);
  return { status: maxAge !== undefined && age > maxAge ? 'warn' : 'ok', text: `${span(age)} ago` };
}
