/**
 * One health alert as the notifiers carry it: a confirmed state change of a check's result, or
 * a reminder that it is still critical (health/transitions.ts makes them; the type lives with
 * the port, so notify/ depends on nothing above it).
 */
export interface Alert {
  host: string;
  check: string;
  subject: string;
  from: 'ok' | 'warn' | 'crit';
  to: 'ok' | 'warn' | 'crit';
  /** `change`: a confirmed new state; `reminder`: still critical after `reminder`. */
  kind: 'change' | 'reminder';
  at: number;
  /** When the state began (for reminders: how long it has been critical). */
  since: number;
  result: { message: string; value?: number | undefined; unit?: string | undefined };
}

/** Health alerts from one run: confirmed state changes and crit reminders. */
export interface HealthEvent {
  type: 'health';
  alerts: Alert[];
  /** The run's summary line, e.g. "2 crit, 3 warn on 14 hosts". */
  summary: string;
}

/** A job run's lifecycle (borgmatic-style monitoring hooks): start, success, fail. */
export interface JobEvent {
  type: 'job';
  phase: 'start' | 'success' | 'fail';
  job: string;
  kind: string;
  runId: string;
  host?: string | undefined;
  /** Summary on success, error message on failure. */
  message?: string | undefined;
  durationMs?: number | undefined;
  at: string;
}

export type NotifyEvent = HealthEvent | JobEvent;

/** One message to one endpoint; retried on its own so a retry never repeats its siblings. */
export interface Delivery {
  /** For logs: "POST https://hooks…/… (files1 disk /srv)". Never includes secrets. */
  what: string;
  /** For a health event: the indexes in `alerts` this message carries (absent: all of them). */
  alerts?: readonly number[];
  send(signal: AbortSignal): Promise<void>;
}

/**
 * A notification channel (webhook, email, healthchecks pings). It turns an event into the
 * deliveries it wants to make, none when it does not take that kind of event. Delivery,
 * retries and logging are the dispatcher's (dispatch.ts): a notifier never breaks a job.
 */
export interface Notifier {
  readonly name: string;
  readonly type: 'webhook' | 'email' | 'healthchecks';
  deliveries(event: NotifyEvent): Delivery[];
}

/** A failed delivery; `retryable` false for answers a retry cannot change (HTTP 400, 401, 404…). */
export class NotifyError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'NotifyError';
    this.retryable = retryable;
  }
}

/** Which `events:` entry an event is. */
export function eventName(e: NotifyEvent): 'health' | 'job-start' | 'job-success' | 'job-failed' {
  if (e.type === 'health') return 'health';
  return e.phase === 'start' ? 'job-start' : e.phase === 'success' ? 'job-success' : 'job-failed';
}
