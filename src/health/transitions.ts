import type { CheckResult, Status } from './types.ts';

/** The state alerts are about; `unknown` results never change it (the host's `reachable` check speaks for a dead host). */
export type AlertLevel = Exclude<Status, 'unknown'>;

/** Alert state of one host/check/subject, kept between runs. Times are ms since the epoch. */
export interface AlertState {
  state: AlertLevel;
  since: number;
  /** A different level seen `count` times in a row, not yet confirmed. */
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
  /** Consecutive results of a new level before the state changes (1 = at once). */
  debounce: number;
  /** Repeat a crit alert this often; 0 = never. */
  reminderMs: number;
}

/**
 * One step of the alert state machine. Pure. A new level must be seen `debounce` times in a row
 * to become the state; that change is the alert (ok→warn, warn→crit, crit→ok recovery…). A
 * state that stays crit is re-announced every `reminderMs`. Unknown results change nothing.
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
  const count = cur.candidate === level ? cur.count + 1 : 1;
  if (count < policy.debounce) return { state: { ...cur, candidate: level, count } };
  return {
    state: { state: level, since: now, count: 0, lastAlertAt: now },
    transition: { ...base, from: cur.state, to: level, kind: 'change', since: now },
  };
}
