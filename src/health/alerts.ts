import type { StateDb } from '../catalog/db.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { type DeliveryOutcome, dispatch } from '../notify/dispatch.ts';
import { notifiersFor } from '../notify/registry.ts';
import { loadAlertStates, saveAlertStates, transaction } from './history.ts';
import { claimAlerts, enqueueAlerts, type OutboxRow, settleAlerts } from './outbox.ts';
import { type AlertPolicy, type AlertState, advance, type Transition } from './transitions.ts';
import { type CheckResult, resultKey } from './types.ts';

/**
 * Runs the alert state machine over a run's results against the stored states, and saves the
 * new states together with the alerts (confirmed changes and crit reminders) queued for each of
 * `notifiers`, in one transaction: an alert is never recorded as sent without being queued.
 * Returns this run's alerts. Call after recordResults.
 */
export function evaluateAlerts(
  db: StateDb,
  results: readonly CheckResult[],
  now: number,
  policy: AlertPolicy,
  notifiers: readonly string[] = [],
): Transition[] {
  const states = loadAlertStates(db);
  const updated = new Map<string, { key: CheckResult; state: AlertState }>();
  const transitions: Transition[] = [];
  for (const r of results) {
    const k = resultKey(r);
    const { state, transition } = advance(states.get(k), r, now, policy);
    if (state) updated.set(k, { key: r, state });
    if (transition) transitions.push(transition);
  }
  transaction(db, () => {
    saveAlertStates(db, updated);
    enqueueAlerts(db, notifiers, transitions, now);
  });
  return transitions;
}

export interface AlertDelivery {
  outcomes: DeliveryOutcome[];
  /** Alerts (per notifier) taken by their receiver this run, earlier runs' included. */
  delivered: number;
  /** Of those, alerts that earlier runs could not deliver. */
  late: number;
  /** Alerts still queued for a later run. */
  pending: number;
  /** Queued alerts dropped as too old or too many. */
  dropped: number;
}

/**
 * Delivers the outbox: per notifier, its queued alerts oldest first (this run's and any left
 * by earlier runs) as one event, so a chat or mail notifier sends one message. Retries within
 * the run are few and short (the outbox carries the rest to the next run). Never throws.
 */
export async function deliverAlerts(
  db: StateDb,
  config: Config,
  run: { summary: string; at: number },
  deps: { log: Logger; clock: Clock; signal: AbortSignal },
): Promise<AlertDelivery> {
  const names = config.health.notify;
  const { rows, dropped } = claimAlerts(db, names, deps.clock.now().getTime());
  if (dropped > 0) deps.log.error({ dropped }, 'Undelivered health alerts dropped (too old or too many)');
  const outcomes: DeliveryOutcome[] = [];
  const delivered: number[] = [];
  let late = 0;
  const failed: Array<{ id: number; error: string }> = [];
  await Promise.all(
    [...rows].map(async ([name, queued]) => {
      const event = { type: 'health' as const, alerts: queued.map((q) => q.alert), summary: run.summary };
      const got = await dispatch(notifiersFor(config, [name]), event, {
        log: deps.log,
        clock: deps.clock,
        signal: deps.signal,
        attempts: 3,
        retryDelayMs: 1000,
      });
      outcomes.push(...got);
      const before = delivered.length;
      settleRows(queued, got, delivered, failed);
      late += queued.filter((q) => q.createdAt < run.at && delivered.includes(q.id, before)).length;
    }),
  );
  settleAlerts(db, delivered, failed);
  if (failed.length > 0)
    deps.log.warn({ pending: failed.length }, 'Health alerts kept in the outbox for the next run');
  return { outcomes, delivered: delivered.length, late, pending: failed.length, dropped };
}

/** A row is delivered when a delivery that carried it succeeded; an event no delivery took is done. */
function settleRows(
  queued: OutboxRow[],
  outcomes: DeliveryOutcome[],
  delivered: number[],
  failed: Array<{ id: number; error: string }>,
): void {
  queued.forEach((row, i) => {
    const mine = outcomes.filter((o) => !o.alerts || o.alerts.includes(i));
    const bad = mine.find((o) => !o.ok);
    if (bad) failed.push({ id: row.id, error: bad.error ?? 'failed' });
    else delivered.push(row.id);
  });
}
