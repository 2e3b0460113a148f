/**
 * Local records of verify runs, restore drills ("last proven restorable") and what each prune
 * listed (the prune guard's memory). The truth about backups stays in storage; these rows only
 * say what was checked, when, and with what outcome.
 */
import type { Config } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { openStateDb, type StateDb } from './db.ts';

export interface CheckRecord {
  kind: 'verify' | 'drill';
  storage: string;
  job: string;
  backupId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: 'ok' | 'failed';
  /** verify: "full" or "ciphertext"; drill: "all" or "sample". */
  depth?: string | undefined;
  files?: number | undefined;
  bytes?: number | undefined;
  target?: string | undefined;
  detail?: string | undefined;
}

/** Checks are kept this long. */
const KEEP_MS = 400 * 86_400_000;

export function recordCheck(db: StateDb, r: CheckRecord): void {
  db.prepare(
    `INSERT INTO backup_checks (kind, storage, job, backup_id, started_at, finished_at, duration_ms, outcome, depth, files, bytes, target, detail)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    r.kind,
    r.storage,
    r.job,
    r.backupId,
    r.startedAt,
    r.finishedAt,
    r.durationMs,
    r.outcome,
    r.depth ?? null,
    r.files ?? null,
    r.bytes ?? null,
    r.target ?? null,
    r.detail ?? null,
  );
  db.prepare('DELETE FROM backup_checks WHERE finished_at < ?').run(
    new Date(Date.parse(r.finishedAt) - KEEP_MS).toISOString(),
  );
}

function toRecord(row: Record<string, unknown>): CheckRecord {
  return {
    kind: row.kind as CheckRecord['kind'],
    storage: String(row.storage),
    job: String(row.job),
    backupId: String(row.backup_id),
    startedAt: String(row.started_at),
    finishedAt: String(row.finished_at),
    durationMs: Number(row.duration_ms),
    outcome: row.outcome as CheckRecord['outcome'],
    depth: (row.depth as string | null) ?? undefined,
    files: (row.files as number | null) ?? undefined,
    bytes: (row.bytes as number | null) ?? undefined,
    target: (row.target as string | null) ?? undefined,
    detail: (row.detail as string | null) ?? undefined,
  };
}

/** The newest check of a kind for a job (any outcome), e.g. for `bo status`. */
export function lastCheck(db: StateDb, kind: CheckRecord['kind'], job: string): CheckRecord | undefined {
  const row = db
    .prepare(
      'SELECT * FROM backup_checks WHERE kind = ? AND job = ? ORDER BY finished_at DESC, id DESC LIMIT 1',
    )
    .get(kind, job);
  return row ? toRecord(row as Record<string, unknown>) : undefined;
}

/** "Last proven restorable": the newest successful restore drill of a job. */
export function lastProvenRestorable(db: StateDb, job: string): CheckRecord | undefined {
  const row = db
    .prepare(
      "SELECT * FROM backup_checks WHERE kind = 'drill' AND job = ? AND outcome = 'ok' ORDER BY finished_at DESC, id DESC LIMIT 1",
    )
    .get(job);
  return row ? toRecord(row as Record<string, unknown>) : undefined;
}

export interface DrillStatus {
  /** The newest successful drill: when, how long it took, which backup. */
  proven?: { at: string; durationMs: number; backupId: string } | undefined;
  /** The newest drill of any outcome, when it is newer than the proof (i.e. it failed). */
  lastFailed?: { at: string; detail?: string | undefined } | undefined;
}

/** "Last proven restorable" of a job for `bo status`; nothing when there are no records (or table). */
export function drillStatus(db: StateDb, job: string): DrillStatus {
  try {
    const ok = lastProvenRestorable(db, job);
    const last = lastCheck(db, 'drill', job);
    return {
      proven: ok && { at: ok.finishedAt, durationMs: ok.durationMs, backupId: ok.backupId },
      lastFailed:
        last && last.outcome !== 'ok'
          ? { at: last.finishedAt, detail: last.detail?.split('\n')[0] }
          : undefined,
    };
  } catch (err) {
    // A state database from before drills (read-only, so not migrated): no records. Anything
    // else (busy, corrupt, unreadable) must not pass for "never proven restorable".
    if (/no such table/.test((err as Error).message)) return {};
    throw err;
  }
}

/** When each backup of a job was last verified successfully (backup id → ISO time). */
export function lastVerified(db: StateDb, storage: string, job: string): Map<string, string> {
  const rows = db
    .prepare(
      "SELECT backup_id, MAX(finished_at) AS at FROM backup_checks WHERE kind = 'verify' AND outcome = 'ok' AND storage = ? AND job = ? GROUP BY backup_id",
    )
    .all(storage, job) as Array<{ backup_id: string; at: string }>;
  return new Map(rows.map((r) => [r.backup_id, r.at]));
}

export interface LatestCheck {
  kind: CheckRecord['kind'];
  outcome: CheckRecord['outcome'];
  finishedAt: string;
}

/**
 * The latest verify or drill of each backup of a job in a storage (backup id → check): what
 * prune keeps the newest proven backup by. A later failure overrides an earlier success.
 */
export function latestChecks(db: StateDb, storage: string, job: string): Map<string, LatestCheck> {
  const rows = db
    .prepare(
      `SELECT backup_id, kind, outcome, finished_at FROM (
         SELECT backup_id, kind, outcome, finished_at,
           ROW_NUMBER() OVER (PARTITION BY backup_id ORDER BY finished_at DESC, id DESC) AS n
         FROM backup_checks WHERE storage = ? AND job = ?)
       WHERE n = 1`,
    )
    .all(storage, job) as Array<{ backup_id: string; kind: string; outcome: string; finished_at: string }>;
  return new Map(
    rows.map((r) => [
      r.backup_id,
      {
        kind: r.kind as LatestCheck['kind'],
        outcome: r.outcome as LatestCheck['outcome'],
        finishedAt: r.finished_at,
      },
    ]),
  );
}

export interface PruneSeen {
  at: string;
  listed: number;
  kept: number;
  newestId: string | undefined;
  newestAt: string | undefined;
}

export function lastPruneSeen(db: StateDb, storage: string, job: string): PruneSeen | undefined {
  const r = db.prepare('SELECT * FROM prune_seen WHERE storage = ? AND job = ?').get(storage, job) as
    | Record<string, unknown>
    | undefined;
  if (!r) return undefined;
  return {
    at: String(r.at),
    listed: Number(r.listed),
    kept: Number(r.kept),
    newestId: (r.newest_id as string | null) ?? undefined,
    newestAt: (r.newest_at as string | null) ?? undefined,
  };
}

export function recordPruneSeen(db: StateDb, storage: string, job: string, s: PruneSeen): void {
  db.prepare(
    `INSERT INTO prune_seen (storage, job, at, listed, kept, newest_id, newest_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (storage, job) DO UPDATE SET at = excluded.at, listed = excluded.listed, kept = excluded.kept,
       newest_id = excluded.newest_id, newest_at = excluded.newest_at`,
  ).run(storage, job, s.at, s.listed, s.kept, s.newestId ?? null, s.newestAt ?? null);
}

/**
 * Runs `fn` with the state database, or with undefined (logged) when it cannot be opened, e.g.
 * a CLI user without write access to stateDir: checks still run, they are just not recorded.
 */
export async function withStateDb<T>(
  config: Config,
  log: Logger,
  fn: (db: StateDb | undefined) => Promise<T>,
): Promise<T> {
  let db: StateDb | undefined;
  try {
    db = openStateDb(config.stateDir);
  } catch (err) {
    log.warn(
      { stateDir: config.stateDir, err: errorMessage(err) },
      'State database unavailable; results are not recorded',
    );
  }
  try {
    return await fn(db);
  } finally {
    db?.close();
  }
}
