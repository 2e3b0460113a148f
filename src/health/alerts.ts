import type { StateDb } from '../catalog/db.ts';
import { loadAlertStates, saveAlertStates } from './history.ts';
import { type AlertPolicy, type AlertState, advance, type Transition } from './transitions.ts';
import { type CheckResult, resultKey } from './types.ts';

/**
 * Runs the alert state machine over a run's results against the stored states and saves the new
 * ones. Returns the alerts to send: confirmed changes and crit reminders. Call after recordResults.
 */
export function evaluateAlerts(
  db: StateDb,
  results: readonly CheckResult[],
  now: number,
  policy: AlertPolicy,
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
  saveAlertStates(db, updated);
  return transitions;
}
