/**
 * `bo verify` and the verify job kind: choose backups, verify each (verify.ts), record the
 * outcomes in the state database, report.
 *
 * `--sample 10%` samples *backups*, not files: a backup's archive is one compressed (and
 * encrypted) stream, so checking any file means reading the whole archive anyway. Each job
 * verifies ceil(10%) of its backups: always its newest, then those never verified, then the
 * least recently verified, so repeated sampled runs cover every backup in turn.
 *
 * An incremental also needs its chain (verify-chain.ts): every ancestor present, and none that
 * failed verify in this run; otherwise it fails too, naming the backup that breaks it.
 */
import type { AgeIdentity } from '../archive/age/index.ts';
import { parseIdentities } from '../archive/age/index.ts';
import { type BackupListing, type BackupRef, listBackups } from '../catalog/backups.ts';
import { lastVerified, recordCheck, withStateDb } from '../catalog/checks.ts';
import type { StateDb } from '../catalog/db.ts';
import { resolveBackup } from '../catalog/resolve.ts';
import type { BackupJob, VerifyJob } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import { parseManifestKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';
import { backupJobTargets } from './targets.ts';
import { type VerifyOutcome, verifyBackup } from './verify.ts';
import { type ChainChecker, chainChecker } from './verify-chain.ts';

export interface VerifyRunOptions {
  identities?: AgeIdentity[] | undefined;
  /** Share of each job's backups, in (0, 1]; default all. */
  sample?: number | undefined;
  signal: AbortSignal;
  log: Logger;
  onResult?: (o: VerifyOutcome) => void;
  random?: () => number;
  /** Verify the copies in this storage instead of the job's own storage. */
  from?: string | undefined;
}

/** Verifies `what` (a job, a backup id or job/id) or, when undefined, the given jobs' backups. */
export async function verifyBackups(
  services: Services,
  what: string | undefined,
  jobs: readonly string[] | undefined,
  opts: VerifyRunOptions,
): Promise<VerifyOutcome[]> {
  return await withStateDb(services.config, opts.log, async (db) => {
    const out: VerifyOutcome[] = [];
    const run = async (storage: Storage, ref: BackupRef, chains: ChainChecker) => {
      const started = new Date();
      const o = await verifyBackup(storage, ref, { identities: opts.identities, signal: opts.signal });
      await chains.apply(o, ref);
      if (db && o.status !== 'gone') record(db, o, started);
      out.push(o);
      opts.onResult?.(o);
    };
    // A configured job name goes through backupJobTargets, so `bo verify nightly` (a prune job)
    // says what prune and drill say; anything else names a backup.
    if (what !== undefined && !services.config.jobs[what]) {
      const only = opts.from ? [opts.from] : undefined;
      const { storage, ref } = await resolveBackup(services, what, undefined, opts.signal, only);
      await run(storage, ref, chainChecker(storage, ref.job, { signal: opts.signal }));
      return out;
    }
    for (const job of backupJobTargets(services, what !== undefined ? [what] : jobs)) {
      const storageName = opts.from ?? (services.config.jobs[job] as BackupJob).storage;
      const storage = services.storage(storageName);
      const started = new Date();
      let listing: BackupListing;
      try {
        listing = await listBackups(storage, { job, signal: opts.signal });
      } catch (err) {
        // One unreachable storage must not hide the others' results (as drill does).
        if (opts.signal.aborted) throw err;
        const o = failedOutcome(storageName, job, 'latest', `cannot list the backups: ${errorMessage(err)}`);
        o.durationMs = Date.now() - started.getTime();
        if (db) record(db, o, started);
        out.push(o);
        opts.onResult?.(o);
        continue;
      }
      for (const u of listing.unreadable) {
        const o = unreadableOutcome(storageName, job, u.key, u.error);
        out.push(o);
        opts.onResult?.(o);
      }
      const seen = db ? lastVerified(db, storageName, job) : new Map<string, string>();
      const refs =
        opts.sample === undefined
          ? listing.backups
          : pickSample(listing.backups, opts.sample, seen, opts.random ?? Math.random);
      // Oldest first, so a parent's outcome is known when its incrementals are checked.
      const chains = chainChecker(storage, job, { listed: listing.backups, signal: opts.signal });
      for (const ref of refs) await run(storage, ref, chains);
    }
    return out;
  });
}

/** The backups a sampled run verifies, oldest first (see the file comment). */
export function pickSample<T extends { id: string }>(
  oldestFirst: readonly T[],
  share: number,
  lastOk: ReadonlyMap<string, string>,
  random: () => number,
): T[] {
  if (oldestFirst.length === 0) return [];
  const n = Math.min(oldestFirst.length, Math.max(1, Math.ceil(oldestFirst.length * share)));
  const newest = oldestFirst.at(-1)!;
  const rest = oldestFirst.slice(0, -1).map((b) => ({ b, at: lastOk.get(b.id) ?? '', r: random() }));
  rest.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.r - y.r));
  const chosen = new Set<T>([newest, ...rest.slice(0, n - 1).map((x) => x.b)]);
  return oldestFirst.filter((b) => chosen.has(b));
}

function unreadableOutcome(storage: string, job: string, key: string, error: string): VerifyOutcome {
  return failedOutcome(storage, job, parseManifestKey(key)?.id ?? key, `manifest unreadable: ${error}`);
}

function failedOutcome(storage: string, job: string, id: string, problem: string): VerifyOutcome {
  return {
    storage,
    job,
    id,
    depth: 'manifest',
    status: 'failed',
    problems: [problem],
    bytes: 0,
    durationMs: 0,
  };
}

function record(db: StateDb, o: VerifyOutcome, started: Date): void {
  recordCheck(db, {
    kind: 'verify',
    storage: o.storage,
    job: o.job,
    backupId: o.id,
    startedAt: started.toISOString(),
    finishedAt: new Date(started.getTime() + o.durationMs).toISOString(),
    durationMs: o.durationMs,
    outcome: o.status === 'ok' ? 'ok' : 'failed',
    depth: o.depth,
    bytes: o.bytes,
    files: o.entries,
    detail: o.problems.join('\n') || undefined,
  });
}

/** The verify job kind, as the daemon runs it. */
export async function runVerify(name: string, job: VerifyJob, ctx: JobRunContext): Promise<JobRunResult> {
  const identities = job.identity ? parseIdentities(job.identity.reveal()) : undefined;
  const outcomes = await verifyBackups(ctx.services, undefined, job.jobs, {
    identities,
    sample: job.sample,
    signal: ctx.signal,
    log: ctx.log,
  });
  return verifyResult(name, outcomes);
}

/** A verify run's result as the run history records it; throws when any backup failed. */
export function verifyResult(name: string, outcomes: readonly VerifyOutcome[]): JobRunResult {
  const failed = outcomes.filter((o) => o.status === 'failed');
  const shallow = outcomes.some((o) => o.depth === 'ciphertext')
    ? ' (encrypted backups: ciphertext only, no identity)'
    : '';
  const summary = `${name}: verified ${outcomes.length - failed.length} of ${outcomes.length} backup(s)${shallow}`;
  if (failed.length > 0) {
    throw new BoError(
      `${summary}; FAILED: ${failed.map((o) => `${o.job}/${o.id}: ${o.problems[0]}`).join(' | ')}`,
    );
  }
  return { summary, bytes: outcomes.reduce((n, o) => n + o.bytes, 0) };
}
