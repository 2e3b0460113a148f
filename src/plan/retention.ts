/**
 * Retention planning: which backups a policy keeps, and why. Pure: backups + now + policy in,
 * a decision with reasons for every backup out.
 *
 * Semantics (restic's `forget`, see README "Retention"):
 * - Backups are walked newest first. `last: n` keeps the n newest. `hourly/daily/weekly/monthly/
 *   yearly: n` each keep the newest backup of each of the n most recent periods that have a
 *   backup. The rules are independent and overlap: one backup can be "last #1, daily #1,
 *   weekly #1" and counts once in each.
 * - When a period rule still has counts left after the oldest backup, the oldest backup is kept
 *   too ("daily #4 (oldest)"), which maximises the history kept while the job is young.
 * - Periods are wall-clock periods in `timezone` (default: the system's), so "daily" follows
 *   local midnight across DST changes; weeks are ISO weeks (Monday to Sunday).
 * - `within: 14d` keeps every backup started less than 14 days before `now` (borg's
 *   keep-within; restic counts from the newest backup instead).
 * - Whatever the policy says, the newest restorable backup is always kept (an incremental whose
 *   chain is broken is not restorable), and so is the newest backup of all (the prune guard
 *   relies on it). An empty policy keeps everything.
 * - So is the newest *proven* backup: the newest restorable one whose latest check (verify,
 *   restore drill) passed, when there is one. A corrupt newest backup is then never the only
 *   one left.
 * Keeping the chains of the kept backups is plan/prune-chains.ts's part.
 */
import { formatDuration } from '../config/duration.ts';
import { isoWeek, type LocalTime, localTimeIn, systemTimeZone } from './calendar.ts';

export interface RetentionPolicy {
  last?: number | undefined;
  hourly?: number | undefined;
  daily?: number | undefined;
  weekly?: number | undefined;
  monthly?: number | undefined;
  yearly?: number | undefined;
  /** Milliseconds before now. */
  within?: number | undefined;
  /** IANA zone for period boundaries; default the system's. */
  timezone?: string | undefined;
}

export interface RetentionItem {
  id: string;
  /** When the backup was taken (its start). */
  time: Date;
  /** Set when its latest check passed: how it was proven, e.g. "verified". */
  proven?: string | undefined;
  /** An incremental whose chain is broken: never the newest restorable or proven backup. */
  unrestorable?: boolean | undefined;
}

export interface RetentionDecision {
  id: string;
  time: Date;
  action: 'keep' | 'delete';
  /** Why: "last #2", "daily #3", "within 14d", "newest successful backup (always kept)", "no rule matched". */
  reasons: string[];
}

export const NEWEST_REASON = 'newest successful backup (always kept)';
/** The newest backup when it is not restorable (a newer restorable one carries NEWEST_REASON). */
export const NEWEST_UNRESTORABLE_REASON = 'newest backup (always kept)';
export const NO_RULE_REASON = 'no rule matched';
export const EMPTY_POLICY_REASON = 'no retention policy';

export function newestProvenReason(how: string): string {
  return `newest ${how} backup (always kept)`;
}

const PERIODS = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
type Period = (typeof PERIODS)[number];

const periodKey: Record<Period, (t: LocalTime) => number> = {
  hourly: (t) => ((t.year * 100 + t.month) * 100 + t.day) * 100 + t.hour,
  daily: (t) => (t.year * 100 + t.month) * 100 + t.day,
  weekly: (t) => {
    const w = isoWeek(t.year, t.month, t.day);
    return w.year * 100 + w.week;
  },
  monthly: (t) => t.year * 100 + t.month,
  yearly: (t) => t.year,
};

export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return !p.last && !p.within && PERIODS.every((k) => !p[k]);
}

/** "last 3, daily 7, weekly 4, within 14d (Europe/Berlin)". */
export function describePolicy(p: RetentionPolicy): string {
  if (isEmptyPolicy(p)) return 'keep everything';
  const parts: string[] = [];
  if (p.last) parts.push(`last ${p.last}`);
  for (const k of PERIODS) if (p[k]) parts.push(`${k} ${p[k]}`);
  if (p.within) parts.push(`within ${formatDuration(p.within)}`);
  return `${parts.join(', ')} (${p.timezone ?? systemTimeZone()})`;
}

/** Decisions for every item, newest first (ties broken by id, descending). */
export function planRetention(
  items: readonly RetentionItem[],
  policy: RetentionPolicy,
  now: Date,
): RetentionDecision[] {
  const sorted = [...items].sort(
    (a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const decisions: RetentionDecision[] = [];
  const view: RetentionView = {
    length: sorted.length,
    time: (i) => sorted[i]!.time.getTime(),
    proven: (i) => sorted[i]!.proven,
    unrestorable: (i) => !!sorted[i]!.unrestorable,
  };
  retentionReasons(view, policy, now, (i, reasons) => {
    const b = sorted[i]!;
    decisions.push(
      reasons ? { ...b, action: 'keep', reasons } : { ...b, action: 'delete', reasons: [NO_RULE_REASON] },
    );
  });
  return decisions;
}

/** Backups newest first, by position, as retentionReasons reads them. */
export interface RetentionView {
  length: number;
  /** When the backup at position i was taken, in ms since the epoch. */
  time(i: number): number;
  proven(i: number): string | undefined;
  unrestorable(i: number): boolean;
}

/**
 * The policy's core, over positions newest first: calls `decide` for each position in order
 * with why it is kept, or undefined when nothing keeps it. No object per backup, so prune can
 * plan a fleet's 200,000 backups (plan/prune.ts) from columns.
 */
export function retentionReasons(
  view: RetentionView,
  policy: RetentionPolicy,
  now: Date,
  decide: (i: number, reasons: string[] | undefined) => void,
): void {
  if (isEmptyPolicy(policy)) {
    const reasons = [EMPTY_POLICY_REASON];
    for (let i = 0; i < view.length; i++) decide(i, reasons);
    return;
  }
  const local = localTimeIn(policy.timezone ?? systemTimeZone());
  const counters = PERIODS.filter((k) => (policy[k] ?? 0) > 0).map((k) => ({
    period: k,
    left: policy[k]!,
    kept: 0,
    last: Number.NaN,
  }));
  const withinFrom = policy.within ? now.getTime() - policy.within : Number.POSITIVE_INFINITY;
  const withinReason = policy.within ? `within ${formatDuration(policy.within)}` : '';
  let lastLeft = policy.last ?? 0;
  let newestGood = -1;
  let newestProven = -1;
  for (let i = 0; i < view.length && (newestGood < 0 || newestProven < 0); i++) {
    if (view.unrestorable(i)) continue;
    if (newestGood < 0) newestGood = i;
    if (newestProven < 0 && view.proven(i)) newestProven = i;
  }

  for (let i = 0; i < view.length; i++) {
    const reasons: string[] = [];
    const time = view.time(i);
    if (lastLeft > 0) {
      lastLeft--;
      reasons.push(`last #${(policy.last ?? 0) - lastLeft}`);
    }
    if (counters.length > 0 && counters.some((c) => c.left > 0)) {
      const t = local(time);
      const oldest = i === view.length - 1;
      for (const c of counters) {
        if (c.left === 0) continue;
        const key = periodKey[c.period](t);
        if (key !== c.last || oldest) {
          const extra = key === c.last ? ' (oldest)' : '';
          c.last = key;
          c.left--;
          c.kept++;
          reasons.push(`${c.period} #${c.kept}${extra}`);
        }
      }
    }
    if (time > withinFrom) reasons.push(withinReason);
    if (i === newestProven) reasons.push(newestProvenReason(view.proven(i)!));
    if (i === newestGood && reasons.length === 0) reasons.push(NEWEST_REASON);
    if (i === 0 && reasons.length === 0) reasons.push(NEWEST_UNRESTORABLE_REASON);
    decide(i, reasons.length > 0 ? reasons : undefined);
  }
}
