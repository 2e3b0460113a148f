import type { StateDb } from '../catalog/db.ts';
import type { CheckName } from '../config/schema.ts';
import type { Sample } from './check.ts';
import type { HistoryReader } from './run.ts';
import type { AlertLevel, AlertState } from './transitions.ts';
import { type CheckResult, resultKey, type Status } from './types.ts';

/** A result is stored when its status changes, and otherwise at most this often (trend samples). */
export const SAMPLE_EVERY_MS = 3_600_000;

type Key = Pick<CheckResult, 'host' | 'check' | 'subject'>;

interface StateRow {
  host: string;
  check_name: string;
  subject: string;
  status: Status;
  sampled_at: number | null;
  alert_state: AlertLevel | null;
  alert_since: number | null;
  candidate: AlertLevel | null;
  candidate_count: number;
  last_alert_at: number | null;
}

/**
 * Records a run's results: a history row when the status changed or the last sample is older
 * than SAMPLE_EVERY_MS (so 100 hosts × 15 checks stay around a million rows a month), and the
 * latest status per check. One transaction.
 */
export function recordResults(db: StateDb, results: readonly CheckResult[], at: number): void {
  const prev = loadStates(db);
  const insert = db.prepare(
    'INSERT INTO health_results (at, host, check_name, subject, status, value, message, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const upsert = db.prepare(
    `INSERT INTO health_state (host, check_name, subject, status, seen_at, sampled_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (host, check_name, subject) DO UPDATE SET status = excluded.status, seen_at = excluded.seen_at,
       sampled_at = COALESCE(excluded.sampled_at, health_state.sampled_at)`,
  );
  transaction(db, () => {
    for (const r of results) {
      const p = prev.get(resultKey(r));
      const sample =
        !p || p.status !== r.status || p.sampled_at === null || at - p.sampled_at >= SAMPLE_EVERY_MS;
      if (sample) {
        insert.run(
          at,
          r.host,
          r.check,
          r.subject,
          r.status,
          r.value ?? null,
          r.message,
          r.data ? JSON.stringify(r.data) : null,
        );
      }
      upsert.run(r.host, r.check, r.subject, r.status, at, sample ? at : null);
    }
  });
}

/** Reads trend samples for the checks that want them (the disk forecast). */
export function historyReader(db: StateDb): HistoryReader {
  const stmt = db.prepare(
    'SELECT subject, at, value, data FROM health_results WHERE host = ? AND check_name = ? AND at >= ? ORDER BY at',
  );
  return {
    samples(host: string, check: CheckName, sinceMs: number) {
      const map = new Map<string, Sample[]>();
      for (const row of stmt.all(host, check, sinceMs) as Array<{
        subject: string;
        at: number;
        value: number | null;
        data: string | null;
      }>) {
        const list = map.get(row.subject) ?? [];
        list.push({ at: row.at, value: row.value ?? undefined, data: row.data ? JSON.parse(row.data) : {} });
        map.set(row.subject, list);
      }
      return map;
    },
  };
}

/** The status a check had at time `at` (its newest history row not after it), for "changes since". */
export function statusesAt(db: StateDb, keys: readonly Key[], at: number): Map<string, Status> {
  const stmt = db.prepare(
    'SELECT status FROM health_results WHERE host = ? AND check_name = ? AND subject = ? AND at <= ? ORDER BY at DESC LIMIT 1',
  );
  const out = new Map<string, Status>();
  for (const k of keys) {
    const row = stmt.get(k.host, k.check, k.subject, at) as { status: Status } | undefined;
    if (row) out.set(resultKey(k), row.status);
  }
  return out;
}

export function loadAlertStates(db: StateDb): Map<string, AlertState> {
  const out = new Map<string, AlertState>();
  for (const [k, row] of loadStates(db)) {
    if (!row.alert_state) continue;
    out.set(k, {
      state: row.alert_state,
      since: row.alert_since ?? 0,
      candidate: row.candidate ?? undefined,
      count: row.candidate_count,
      lastAlertAt: row.last_alert_at ?? undefined,
    });
  }
  return out;
}

/** Saves alert states; the rows exist already (recordResults runs first). */
export function saveAlertStates(
  db: StateDb,
  states: ReadonlyMap<string, { key: Key; state: AlertState }>,
): void {
  const stmt = db.prepare(
    `UPDATE health_state SET alert_state = ?, alert_since = ?, candidate = ?, candidate_count = ?, last_alert_at = ?
     WHERE host = ? AND check_name = ? AND subject = ?`,
  );
  transaction(db, () => {
    for (const { key, state: s } of states.values()) {
      stmt.run(
        s.state,
        s.since,
        s.candidate ?? null,
        s.count,
        s.lastAlertAt ?? null,
        key.host,
        key.check,
        key.subject,
      );
    }
  });
}

/** Drops history older than `keepMs` and checks not seen for that long. */
export function pruneHistory(db: StateDb, now: number, keepMs: number): void {
  const cutoff = now - keepMs;
  transaction(db, () => {
    db.prepare('DELETE FROM health_results WHERE at < ?').run(cutoff);
    db.prepare('DELETE FROM health_state WHERE seen_at < ?').run(cutoff);
    db.prepare('DELETE FROM health_reports WHERE at < ?').run(cutoff);
  });
}

function loadStates(db: StateDb): Map<string, StateRow> {
  const rows = db.prepare('SELECT * FROM health_state').all() as unknown as StateRow[];
  return new Map(rows.map((r) => [resultKey({ host: r.host, check: r.check_name, subject: r.subject }), r]));
}

/** Runs `fn` in one write transaction; inside an open one it simply joins it. */
export function transaction(db: StateDb, fn: () => void): void {
  if (db.isTransaction) {
    fn();
    return;
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    fn();
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
