/**
 * `bo prune` and the prune job kind: per backup job, under the job's lock, list everything
 * stored (scanJob), check the listing is believable (prune-guard.ts), plan (plan/prune.ts, with
 * Object Lock retention looked up for everything it would delete) and carry out exactly that
 * plan (prune-exec.ts). One job's failure never stops the others.
 */
import { randomUUID } from 'node:crypto';
import { readManifest } from '../catalog/backups.ts';
import { catalogFacts, loadCatalog, writeCatalog } from '../catalog/catalog.ts';
import {
  type LatestCheck,
  lastPruneSeen,
  latestChecks,
  recordPruneSeen,
  withStateDb,
} from '../catalog/checks.ts';
import type { StateDb } from '../catalog/db.ts';
import type { Manifest } from '../catalog/manifest.ts';
import { type JobScan, scanJob } from '../catalog/scan.ts';
import type { BackupJob, PruneJob } from '../config/schema.ts';
import { BoError, errorMessage, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type JobStorage, jobStorages, policyOf } from '../plan/copy.ts';
import { type PruneInput, type PrunePlan, planPrune } from '../plan/prune.ts';
import type { BackupCheck } from '../plan/prune-backups.ts';
import { DELETE } from '../plan/prune-chains.ts';
import { chainsBrokenBy, deletedBackups, keysToDelete } from '../plan/prune-rows.ts';
import type { RetentionPolicy } from '../plan/retention.ts';
import type { Services } from '../services.ts';
import { catalogKey, parseManifestKey } from '../storage/layout.ts';
import type { Retention, Storage } from '../storage/storage.ts';
import { withJobLock } from './job-lock.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';
import { executePrunePlan, type PruneExecution } from './prune-exec.ts';
import { guardMemory, type ListingFacts, listingProblems } from './prune-guard.ts';
import { lastCommittedBackup } from './run-history.ts';
import { backupJobTargets } from './targets.ts';

export const DEFAULT_GARBAGE_AGE_MS = 24 * 3_600_000;
/** A scheduled prune waits this long for a running backup of a job before reporting it locked. */
export const SCHEDULED_PRUNE_LOCK_WAIT_MS = 30 * 60_000;

export interface PruneOptions {
  dryRun?: boolean;
  /** Override the listing guard (see prune-guard.ts). */
  force?: boolean;
  garbageAgeMs?: number;
  /** How long to wait for a running backup of the job to release its lock; default 0. */
  lockWaitMs?: number;
  signal: AbortSignal;
  log: Logger;
  runId?: string;
  /** See JobRunContext.fence: checked before anything is deleted. */
  fence?: (() => Promise<void>) | undefined;
}

export interface PruneReport {
  job: string;
  storage: string;
  plan?: PrunePlan;
  /** Why the guard refused to delete anything. */
  refused?: string[];
  /** The job could not be pruned at all (lock busy, listing failed …). */
  error?: string;
  /** What to do about `error`, when known (e.g. who holds the lock and until when). */
  hint?: string;
  /** Set when the listing guard had nothing to compare with (see guardMemory). */
  unguarded?: string;
  execution?: PruneExecution;
  /** Unreadable manifests and stray keys, shown but never touched. */
  notes: string[];
}

export async function pruneJobs(
  services: Services,
  names: readonly string[],
  opts: PruneOptions,
): Promise<PruneReport[]> {
  return await withStateDb(services.config, opts.log, async (db) => {
    const reports: PruneReport[] = [];
    for (const name of names) {
      opts.signal.throwIfAborted();
      const job = services.config.jobs[name] as BackupJob;
      // Each storage of the job (its own, then its copies) with its own retention (issue 12).
      for (const target of jobStorages(job)) {
        try {
          reports.push(await pruneJob(services, db, name, job, target, opts));
        } catch (err) {
          if (opts.signal.aborted) throw err; // cancelled: stop the batch
          if (!(err instanceof BoError))
            opts.log.error(
              { job: name, err },
              'Prune failed with an unexpected error (this is a bug, please report it)',
            );
          const hint = err instanceof BoError && err.hint ? { hint: err.hint } : {};
          reports.push({ job: name, storage: target.storage, error: errorMessage(err), ...hint, notes: [] });
        }
      }
    }
    return reports;
  });
}

async function pruneJob(
  services: Services,
  db: StateDb | undefined,
  name: string,
  job: BackupJob,
  target: JobStorage,
  opts: PruneOptions,
): Promise<PruneReport> {
  const storage = services.storage(target.storage);
  const log = opts.log.child({ job: name, storage: target.storage });
  const work = async (signal: AbortSignal): Promise<PruneReport> => {
    const scan = await scanJob(storage, name, { signal });
    const now = services.clock.now();
    const checks = db ? latestChecks(db, target.storage, name) : new Map<string, LatestCheck>();
    const policy = policyOf(target.retention, job.timezone);
    const input = pruneInput(scan, policy, now, opts.garbageAgeMs ?? DEFAULT_GARBAGE_AGE_MS, checks);
    const unlocked = planPrune(input);
    const locks = storage.lockable ? await retentionOf(storage, keysToDelete(unlocked)) : new Map();
    // With no Object Lock in force on anything it would delete, the plan is the same.
    const plan = locks.size > 0 ? planPrune({ ...input, locks }) : unlocked;
    const newest = scan.newest;
    const ids = scan.backups.ids;
    if (newest && plan.backups.actions[ids.length - 1] === DELETE) {
      throw new Error(`prune plan would delete the newest backup ${name}/${newest.id}`); // planRetention never does
    }
    const orphaned = chainsBrokenBy(plan);
    if (orphaned.length > 0) throw new Error(`prune plan of ${name} breaks chains: ${orphaned.join('; ')}`); // keepChains never does
    const notes = [
      ...scan.unreadable.map((u) => `unreadable manifest ${u.key}: ${u.error} (left alone)`),
      ...scan.stray.map((o) => `unknown object ${o.key} (not bo's; left alone)`),
    ];
    const facts: ListingFacts = {
      job: name,
      listed: {
        count: ids.length,
        ...(newest ? { newestAt: newest.startedAt } : {}),
        has: (id) => ids.includes(id),
      },
      unreadable: scan.unreadable,
      previous: db && lastPruneSeen(db, target.storage, name),
      // Only the job's own storage: this machine's run history records backups, not copies.
      lastCommitted: db && target.role === 'primary' ? lastCommittedBackup(db, name) : undefined,
      catalog: scan.catalog ?? (await catalogFacts(storage, name, signal)),
    };
    const unguarded = guardMemory(facts);
    const report: PruneReport = {
      job: name,
      storage: target.storage,
      plan,
      notes,
      ...(unguarded ? { unguarded } : {}),
    };
    const refused = listingProblems(facts);
    if (refused.length > 0 && !opts.force) return { ...report, refused };
    if (refused.length > 0) log.warn({ problems: refused }, 'Prune guard overridden with --force');
    if (opts.dryRun) return report;

    // The catalog first, without the doomed backups: `bo list` trusts it, so it must never list a
    // backup whose manifest is gone, even if this process dies between two deletes.
    const doomed = new Set(deletedBackups(plan).map((i) => ids[i]!));
    const survivors = (gone: ReadonlySet<string>) => survivingManifests(storage, scan, gone, signal);
    if (doomed.size > 0) {
      try {
        await writeCatalog(storage, name, await survivors(doomed), now);
      } catch (err) {
        if (signal.aborted) throw err;
        throw new BoError(
          `cannot write the job catalog ${catalogKey(name)} before deleting: ${errorMessage(err)}; nothing was deleted`,
          { cause: err },
        );
      }
    }
    await opts.fence?.();
    const execution = await executePrunePlan(storage, plan, { signal, log });
    // Afterwards, best effort: refresh it, and put back backups whose manifest could not be deleted.
    if (doomed.size === 0 || execution.deletedIds.length < doomed.size) {
      await survivors(new Set(execution.deletedIds))
        .then((kept) => writeCatalog(storage, name, kept, now))
        .catch((err) =>
          log.warn(
            { err: errorMessage(err) },
            'Cannot update the job catalog; listings read the manifests instead',
          ),
        );
    }
    if (db && newest) {
      recordPruneSeen(db, target.storage, name, {
        at: now.toISOString(),
        listed: ids.length,
        kept: ids.length - execution.backupsDeleted,
        newestId: newest.id,
        newestAt: newest.startedAt,
      });
    }
    log.info(
      {
        deleted: execution.backupsDeleted,
        garbage: execution.garbageRemoved,
        failures: execution.failures.length,
      },
      'Prune finished',
    );
    return { ...report, execution };
  };
  // A dry run changes nothing, so it takes no lock (its plan may be outdated by the time it is read).
  if (opts.dryRun) return await work(opts.signal);
  const deps = { services, log, signal: opts.signal, runId: opts.runId ?? randomUUID() };
  return await withJobLock(deps, storage, name, 'prune', work, { waitMs: opts.lockWaitMs ?? 0 });
}

/**
 * The full manifests of the scanned backups not in `gone`, for the catalog: from the catalog as
 * it was (the scan kept only what prune needs of them), the ones it lacked read from storage.
 */
async function survivingManifests(
  storage: Storage,
  scan: JobScan,
  gone: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<Manifest[]> {
  const kept = new Set(scan.backups.ids.filter((id) => !gone.has(id)));
  const doc = await loadCatalog(storage, scan.job, signal, (id) => kept.has(id));
  const cached = new Map(doc?.backups.map((m) => [m.id, m]));
  const out: Manifest[] = [];
  for (const id of kept) out.push(cached.get(id) ?? (await readManifest(storage, scan.job, id, signal)));
  return out;
}

function pruneInput(
  scan: JobScan,
  policy: RetentionPolicy | undefined,
  now: Date,
  garbageAgeMs: number,
  checks: ReadonlyMap<string, LatestCheck>,
): PruneInput {
  const byPosition = new Map<number, BackupCheck>();
  if (checks.size > 0) {
    for (const [i, id] of scan.backups.ids.entries()) {
      const c = checks.get(id);
      if (c) byPosition.set(i, { kind: c.kind, outcome: c.outcome });
    }
  }
  return {
    job: scan.job,
    now,
    policy,
    garbageAgeMs,
    backups: { ...scan.backups, checks: byPosition },
    orphans: scan.orphans,
    incomplete: scan.incomplete,
    unreadable: scan.unreadable.flatMap((u) => parseManifestKey(u.key)?.id ?? []),
  };
}

async function retentionOf(storage: Storage, keys: string[]): Promise<Map<string, Retention>> {
  const out = new Map<string, Retention>();
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const r = await storage.retention(key).catch((err) => {
        if (err instanceof NotFoundError) return undefined; // named by the manifest but never stored
        throw err;
      });
      if (r) out.set(key, r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
  return out;
}

/** The prune job kind, as the daemon (and `bo run`) runs it. */
export async function runPrune(name: string, job: PruneJob, ctx: JobRunContext): Promise<JobRunResult> {
  const targets = backupJobTargets(ctx.services, job.jobs);
  const reports = await pruneJobs(ctx.services, targets, {
    garbageAgeMs: job.garbageAge,
    lockWaitMs: SCHEDULED_PRUNE_LOCK_WAIT_MS,
    signal: ctx.signal,
    log: ctx.log,
    runId: ctx.runId,
    fence: ctx.fence,
  });
  return pruneResult(name, reports);
}

/** A prune run's result as the run history records it; throws when any job was refused or failed. */
export function pruneResult(name: string, reports: readonly PruneReport[]): JobRunResult {
  const deleted = reports.reduce((n, r) => n + (r.execution?.backupsDeleted ?? 0), 0);
  const bad = reports.filter((r) => r.error || r.refused || r.execution?.failures.length);
  const blind = reports.filter((r) => r.unguarded).map((r) => r.job);
  const summary = `${name}: pruned ${reports.length} job(s), deleted ${deleted} backup(s)${blind.length ? ` (the guard had no memory of ${blind.join(', ')})` : ''}`;
  if (bad.length > 0) {
    const why = bad.map(
      (r) => `${r.job}: ${r.error ?? r.refused?.join('; ') ?? r.execution!.failures[0]!.error}`,
    );
    throw new BoError(`${summary}; problems: ${why.join(' | ')}`);
  }
  return { summary };
}
