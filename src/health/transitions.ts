import type { CheckResult, Status } from './types.ts';

/** The state alerts are about; `unknown` results never change it (the host's `reachable` check speaks for a dead host). */
export type AlertLevel = Exclude<Status, 'unknown'>;

/** Alert state of one host/check/subject, kept between runs. Times are ms since the epoch. */
export interface AlertState {
  state: AlertLevel;
  since: number;
  /** `count` results in a row differed from `state`; `candidate` is the level they agree on (see advance). */
  candidate?: AlertLevel | undefined;
  count: number;
  lastAlertAt?: number | undefined;
}

export interface Transition {
  host: string;
  check: string;
  subject: string;
  from: AlertLevel;
  to: AlertLevel;
  /** `change`: a confirmed new state; `reminder`: still critical after `reminder`. */
  kind: 'change' | 'reminder';
  at: number;
  /** When the state began (for reminders: how long it has been critical). */
  since: number;
  result: CheckResult;
}

export interface AlertPolicy {
  /** Consecutive results that differ from the state before it changes (1 = at once). */
  debounce: number;
  /** Repeat a crit alert this often; 0 = never. */
  reminderMs: number;
}

/**
 * One step of the alert state machine. Pure. Results that differ from the current state are
 * counted in a row whatever their level (a disk hovering around the crit line alternates warn
 * and crit: that is `debounce` results away from ok, not a count that keeps restarting); a result
 * equal to the state resets the count. On the `debounce`th one the state changes to the mildest
 * change the run agrees on: from ok, warn unless every result was crit; from crit, warn unless
 * every result was ok; from warn (results on both sides), the latest. That change is the alert
 * (ok→warn, warn→crit, crit→ok recovery…). A state that stays crit is re-announced every
 * `reminderMs`. Unknown results change nothing.
 */
export function advance(
  prev: AlertState | undefined,
  r: CheckResult,
  now: number,
  policy: AlertPolicy,
): { state: AlertState | undefined; transition?: Transition } {
  if (r.status === 'unknown') return { state: prev };
  const level: AlertLevel = r.status;
  const cur: AlertState = prev ?? { state: 'ok', since: now, count: 0 };
  const base = { host: r.host, check: r.check, subject: r.subject, at: now, result: r };
  if (level === cur.state) {
    const next: AlertState = { state: cur.state, since: cur.since, count: 0, lastAlertAt: cur.lastAlertAt };
    const last = cur.lastAlertAt ?? cur.since;
    if (level === 'crit' && policy.reminderMs > 0 && now - last >= policy.reminderMs) {
      next.lastAlertAt = now;
      return {
        state: next,
        transition: { ...base, from: 'crit', to: 'crit', kind: 'reminder', since: cur.since },
      };
    }
    return { state: next };
  }
  const candidate = cur.candidate === undefined ? level : agreed(cur.state, cur.candidate, level);
  const count = cur.candidate === undefined ? 1 : cur.count + 1;
  if (count < policy.debounce) return { state: { ...cur, candidate, count } };
  return {
    state: { state: candidate, since: now, count: 0, lastAlertAt: now },
    transition: { ...base, from: cur.state, to: candidate, kind: 'change', since: now },
  };
}

const RANK: Record<AlertLevel, number> = { ok: 0, warn: 1, crit: 2 };

/** The level a run of results away from `state` agrees on so far: the nearer one on the same side, else the latest. */
function agreed(state: AlertLevel, candidate: AlertLevel, level: AlertLevel): AlertLevel {
  const a = RANK[candidate] - RANK[state];
  const b = RANK[level] - RANK[state];
  if (Math.sign(a) !== Math.sign(b)) return level;
  return Math.abs(a) <= Math.abs(b) ? candidate : level;
}
