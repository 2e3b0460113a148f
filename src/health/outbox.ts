import type { StateDb } from '../catalog/db.ts';
import { transaction } from './history.ts';
import type { Transition } from './transitions.ts';

/**
 * Alerts not yet delivered, one row per notifier and alert (table `health_outbox`). A run's
 * alerts are queued in the same transaction that saves the alert states, so a receiver that is
 * down, or bo crashing before it sent them, loses nothing: every health run with alerts on
 * delivers the queue oldest first, and a row leaves it only once its notifier took it.
 */
export interface OutboxRow {
  id: number;
  notifier: string;
  alert: Transition;
  attempts: number;
  createdAt: number;
}

/** Rows one run delivers per notifier (oldest first); the rest wait for the next run. */
export const OUTBOX_BATCH = 100;
/** Rows kept per notifier; beyond that the oldest are dropped (a receiver gone for days). */
export const OUTBOX_MAX_ROWS = 1000;
/** An alert older than this is news no more: dropped undelivered. */
export const OUTBOX_MAX_AGE_MS = 86_400_000;
/** A claim older than this belongs to a run that died: the rows are free again. */
const CLAIM_TIMEOUT_MS = 10 * 60_000;

export function enqueueAlerts(
  db: StateDb,
  notifiers: readonly string[],
  alerts: readonly Transition[],
  now: number,
): void {
  if (notifiers.length === 0 || alerts.length === 0) return;
  const insert = db.prepare('INSERT INTO health_outbox (created_at, notifier, alert) VALUES (?, ?, ?)');
  transaction(db, () => {
    for (const n of notifiers) for (const a of alerts) insert.run(now, n, JSON.stringify(a));
  });
}

/**
 * Takes the oldest unclaimed rows of each notifier (at most OUTBOX_BATCH each) for delivery,
 * after dropping what is too old, too many, or for notifiers no longer configured. Claimed rows
 * are skipped by a concurrent run (another health job) until settled.
 */
export function claimAlerts(
  db: StateDb,
  notifiers: readonly string[],
  now: number,
): { rows: Map<string, OutboxRow[]>; dropped: number } {
  const rows = new Map<string, OutboxRow[]>();
  let dropped = 0;
  transaction(db, () => {
    const known = JSON.stringify(notifiers);
    dropped += Number(
      db
        .prepare(
          'DELETE FROM health_outbox WHERE created_at < ? OR notifier NOT IN (SELECT value FROM json_each(?))',
        )
        .run(now - OUTBOX_MAX_AGE_MS, known).changes,
    );
    const trim = db.prepare(
      `DELETE FROM health_outbox WHERE notifier = ? AND id NOT IN
         (SELECT id FROM health_outbox WHERE notifier = ? ORDER BY id DESC LIMIT ?)`,
    );
    const select = db.prepare(
      `SELECT id, notifier, alert, attempts, created_at FROM health_outbox
        WHERE notifier = ? AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY id LIMIT ?`,
    );
    const claim = db.prepare('UPDATE health_outbox SET claimed_at = ? WHERE id = ?');
    for (const n of notifiers) {
      dropped += Number(trim.run(n, n, OUTBOX_MAX_ROWS).changes);
      const list = (
        select.all(n, now - CLAIM_TIMEOUT_MS, OUTBOX_BATCH) as Array<{
          id: number;
          notifier: string;
          alert: string;
          attempts: number;
          created_at: number;
        }>
      ).map((r) => ({
        id: r.id,
        notifier: r.notifier,
        alert: JSON.parse(r.alert) as Transition,
        attempts: r.attempts,
        createdAt: r.created_at,
      }));
      for (const r of list) claim.run(now, r.id);
      if (list.length > 0) rows.set(n, list);
    }
  });
  return { rows, dropped };
}

/** Delivered rows leave the queue; failed ones are released with their error for the next run. */
export function settleAlerts(
  db: StateDb,
  delivered: readonly number[],
  failed: ReadonlyArray<{ id: number; error: string }>,
): void {
  const del = db.prepare('DELETE FROM health_outbox WHERE id = ?');
  const fail = db.prepare(
    'UPDATE health_outbox SET attempts = attempts + 1, last_error = ?, claimed_at = NULL WHERE id = ?',
  );
  transaction(db, () => {
    for (const id of delivered) del.run(id);
    for (const f of failed) fail.run(f.error, f.id);
  });
}

/** Rows waiting per notifier (for `bo status` and the job summary). */
export function pendingAlerts(db: StateDb): Map<string, number> {
  const rows = db
    .prepare('SELECT notifier, COUNT(*) AS n FROM health_outbox GROUP BY notifier')
    .all() as Array<{
    notifier: string;
    n: number;
  }>;
  return new Map(rows.map((r) => [r.notifier, Number(r.n)]));
}
