/**
 * The run history in the state database (table `runs`, migrations in runs-schema.ts): one row per
 * run attempt of any job kind, written when it is queued, started and finished. A row without an
 * outcome is a run in progress, owned by the process (pid + boot id) that wrote it; when that
 * process is gone, the next daemon start marks it `abandoned`.
 */
import { readFileSync } from 'node:fs';
import type { StatementSync } from 'node:sqlite';
import type { StateDb } from './db.ts';

export type RunOutcome = 'ok' | 'failed' | 'cancelled' | 'abandoned';
/** Why a run happened: its cron time, a missed time at start, a retry, or a request. */
export type RunTrigger = 'schedule' | 'catch-up' | 'retry' | 'manual';

/** One run attempt. Times are ISO 8601 UTC strings. */
export interface RunRecord {
  id: string;
  job: string;
  kind: string;
  host?: string | undefined;
  trigger: RunTrigger;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** The schedule time this run stands for (absent for runs started by hand). */
  scheduledAt?: string | undefined;
  queuedAt: string;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  /** Undefined while queued or running. */
  outcome?: RunOutcome | undefined;
  /** Bytes the run read; for a backup its source bytes (src/sizes.ts). */
  bytes?: number | undefined;
  /** A backup's stored bytes: archive, index and dumps. */
  storedBytes?: number | undefined;
  files?: number | undefined;
  backupId?: string | undefined;
  error?: string | undefined;
  /** What to do about the error (a BoError's hint). Not stored: it travels with a live run only. */
  hint?: string | undefined;
  summary?: string | undefined;
  /** A backup's place in its incremental chain (absent for standalone archives and other kinds). */
  chain?: RunChain | undefined;
  /** A backup asked to be a full (`bo backup now --full`). Not stored. */
  full?: boolean | undefined;
  /** What kind of backup it made ("incremental, level 2", "full: first backup"). Not stored. */
  note?: string | undefined;
}

export type RunEnd = Required<Pick<RunRecord, 'finishedAt' | 'outcome'>> &
  Pick<
    RunRecord,
    'bytes' | 'storedBytes' | 'files' | 'backupId' | 'error' | 'hint' | 'summary' | 'note' | 'chain'
  >;

/** Where a backup run's backup sits in its chain (the manifest's chain, without parent and reason). */
export interface RunChain {
  type: 'full' | 'incremental';
  level: number;
  /** The chain's full. */
  root: string;
}

/** The process that owns unfinished rows. */
export interface RunOwner {
  pid: number;
  boot: string;
  /** When the process started (clock ticks since boot); absent in rows from before it was kept. */
  start?: string | undefined;
}

export function currentOwner(): RunOwner {
  let boot = 'unknown';
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux: pid liveness alone decides
  }
  return { pid: process.pid, boot, start: processStart(process.pid) };
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name, which may hold spaces). */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const n = <T>(v: T | undefined): T | null => v ?? null;

/** Prepared statements per database: the daemon writes three rows per run, so compile them once. */
const prepared = new WeakMap<StateDb, Map<string, StatementSync>>();
function stmt(db: StateDb, sql: string): StatementSync {
  let m = prepared.get(db);
  if (!m) {
    m = new Map();
    prepared.set(db, m);
  }
  let st = m.get(sql);
  if (!st) {
    st = db.prepare(sql);
    m.set(sql, st);
  }
  return st;
}

export function insertRun(db: StateDb, r: RunRecord, owner: RunOwner): void {
  stmt(
    db,
    `INSERT INTO runs (id, job, kind, host, trigger, attempt, scheduled_at, queued_at, started_at, owner_pid, owner_boot, owner_start)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    r.id,
    r.job,
    r.kind,
    n(r.host),
    r.trigger,
    r.attempt,
    n(r.scheduledAt),
    r.queuedAt,
    n(r.startedAt),
    owner.pid,
    owner.boot,
    n(owner.start),
  );
}

/** A run began: its row, queued earlier (the daemon) or not (the CLI), now has its start time. */
export function recordRunStarted(db: StateDb, r: RunRecord & { startedAt: string }, owner: RunOwner): void {
  db.exec('BEGIN');
  try {
    if (Number(stmt(db, 'UPDATE runs SET started_at = ? WHERE id = ?').run(r.startedAt, r.id).changes) === 0)
      insertRun(db, r, owner);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

export function finishRun(db: StateDb, id: string, end: RunEnd): void {
  stmt(
    db,
    'UPDATE runs SET finished_at = ?, outcome = ?, bytes = ?, stored_bytes = ?, files = ?, backup_id = ?, error = ?, summary = ?, chain = ? WHERE id = ?',
  ).run(
    end.finishedAt,
    end.outcome,
    n(end.bytes),
    n(end.storedBytes),
    n(end.files),
    n(end.backupId),
    n(end.error),
    n(end.summary),
    end.chain ? JSON.stringify(end.chain) : null,
    id,
  );
}

function toRecord(row: Record<string, unknown>): RunRecord {
  const opt = <T>(v: unknown) => (v === null || v === undefined ? undefined : (v as T));
  return {
    id: String(row.id),
    job: String(row.job),
    kind: String(row.kind),
    host: opt<string>(row.host),
    trigger: row.trigger as RunTrigger,
    attempt: Number(row.attempt),
    scheduledAt: opt<string>(row.scheduled_at),
    queuedAt: String(row.queued_at),
    startedAt: opt<string>(row.started_at),
    finishedAt: opt<string>(row.finished_at),
    outcome: opt<RunOutcome>(row.outcome),
    bytes: opt<number>(row.bytes),
    storedBytes: opt<number>(row.stored_bytes),
    files: opt<number>(row.files),
    backupId: opt<string>(row.backup_id),
    error: opt<string>(row.error),
    summary: opt<string>(row.summary),
    chain: typeof row.chain === 'string' ? (JSON.parse(row.chain) as RunChain) : undefined,
  };
}

export function getRun(db: StateDb, id: string): RunRecord | undefined {
  const row = stmt(db, 'SELECT * FROM runs WHERE id = ?').get(id);
  return row ? toRecord(row as Record<string, unknown>) : undefined;
}

/** Runs, newest first, optionally of one job. */
export function listRuns(db: StateDb, opts: { job?: string; limit?: number } = {}): RunRecord[] {
  const where = opts.job === undefined ? '' : 'WHERE job = ?';
  const args = opts.job === undefined ? [] : [opts.job];
  const rows = stmt(db, `SELECT * FROM runs ${where} ORDER BY queued_at DESC, rowid DESC LIMIT ?`).all(
    ...args,
    opts.limit ?? 100,
  );
  return rows.map((r) => toRecord(r as Record<string, unknown>));
}

/** The most recently finished run of each job, or the most recent successful one with `ok`. */
export function latestFinished(db: StateDb, opts: { ok?: boolean } = {}): Map<string, RunRecord> {
  const filter = opts.ok ? "outcome = 'ok'" : 'outcome IS NOT NULL';
  const rows = stmt(
    db,
    `SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY job ORDER BY finished_at DESC, rowid DESC) AS rn
       FROM runs WHERE ${filter}) WHERE rn = 1`,
  ).all();
  return new Map(rows.map((r) => [String(r.job), toRecord(r as Record<string, unknown>)]));
}

/** Queued or running rows, with the process that owns them. */
export function unfinishedRuns(db: StateDb): Array<RunRecord & { owner: RunOwner }> {
  const rows = stmt(db, 'SELECT * FROM runs WHERE outcome IS NULL ORDER BY queued_at').all();
  return rows.map((r) => ({
    ...toRecord(r as Record<string, unknown>),
    owner: {
      pid: Number(r.owner_pid),
      boot: String(r.owner_boot),
      start: r.owner_start === null || r.owner_start === undefined ? undefined : String(r.owner_start),
    },
  }));
}

/**
 * True when the process that owns a row may still be running it. Rows of an earlier boot, or
 * with this very process's pid (it cannot own rows from before it opened the database, e.g.
 * pid 1 in a container), are dead; so is a pid now held by a process that started at another
 * time (the pid was reused after bo died). Otherwise the pid decides.
 */
export function ownerAlive(
  owner: RunOwner,
  self: RunOwner = currentOwner(),
  startOf: (pid: number) => string | undefined = processStart,
): boolean {
  if (owner.boot !== self.boot || owner.pid === self.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = owner.start === undefined ? undefined : startOf(owner.pid);
  return start === undefined || start === owner.start;
}

/** Marks the unfinished rows whose owner is gone as abandoned; returns them. */
export function abandonRuns(
  db: StateDb,
  at: string,
  alive: (o: RunOwner) => boolean = (o) => ownerAlive(o),
): RunRecord[] {
  const dead = unfinishedRuns(db).filter((r) => !alive(r.owner));
  for (const r of dead) {
    finishRun(db, r.id, {
      finishedAt: at,
      outcome: 'abandoned',
      error: r.startedAt ? 'bo stopped while the run was in progress' : 'bo stopped before the run started',
    });
  }
  return dead.map(({ owner: _, ...r }) => ({ ...r, finishedAt: at, outcome: 'abandoned' as const }));
}

/**
 * Bounds the history: drops finished runs older than `before` or beyond the newest `perJob` of
 * their job, but never the newest successful run of a job (catch-up and prune rely on it).
 */
export function pruneRuns(db: StateDb, opts: { before: string; perJob: number }): number {
  const res = stmt(
    db,
    `DELETE FROM runs WHERE outcome IS NOT NULL
       AND id NOT IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY job ORDER BY finished_at DESC, rowid DESC) AS rn
                      FROM runs WHERE outcome = 'ok') WHERE rn = 1)
       AND (finished_at < ? OR id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY job ORDER BY queued_at DESC, rowid DESC) AS rn
                                      FROM runs) WHERE rn > ?))`,
  ).run(opts.before, opts.perJob);
  return Number(res.changes);
}

/** Records when the daemon first saw each job (the catch-up baseline before any success). */
export function jobsFirstSeen(db: StateDb, jobs: string[], at: string): Map<string, string> {
  const insert = stmt(db, 'INSERT OR IGNORE INTO daemon_jobs (job, first_seen) VALUES (?, ?)');
  db.exec('BEGIN');
  try {
    for (const j of jobs) insert.run(j, at);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
  const rows = stmt(db, 'SELECT job, first_seen FROM daemon_jobs').all() as Array<{
    job: string;
    first_seen: string;
  }>;
  const wanted = new Set(jobs);
  return new Map(rows.filter((r) => wanted.has(r.job)).map((r) => [r.job, r.first_seen]));
}

/** First-seen times without recording anything (for the CLI reading a daemon's database). */
export function readJobsFirstSeen(db: StateDb): Map<string, string> {
  const rows = stmt(db, 'SELECT job, first_seen FROM daemon_jobs').all() as Array<{
    job: string;
    first_seen: string;
  }>;
  return new Map(rows.map((r) => [r.job, r.first_seen]));
}
