/**
 * The incremental side of a backup run (backup.ts calls these in order): decide full or
 * incremental from what storage and this machine hold (plan/incremental.ts), hand tar its
 * snapshot file on the server (backup-snar.ts), and after the archive is stored bring the new
 * snapshot file home, extend the chain's Object Lock, and keep the state once the manifest
 * committed. A run that fails anywhere leaves the previous state untouched.
 */
import { type BackupRef, readManifest } from '../catalog/backups.ts';
import { listJobBackups } from '../catalog/catalog.ts';
import { walkChain } from '../catalog/chain-index.ts';
import type { ChainResult } from '../catalog/chains.ts';
import { latestChecks } from '../catalog/checks.ts';
import { openStateDbReadOnly } from '../catalog/db-read.ts';
import type { ChainInfo } from '../catalog/manifest.ts';
import { type BackupJob, fullEveryOf } from '../config/schema.ts';
import { errorMessage, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type IncrementalPlan, jobFingerprint, planIncremental } from '../plan/incremental.ts';
import { memberMapper, type PathTransform } from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import type { Storage } from '../storage/storage.ts';
import { openRemoteSnar, type RemoteSnar } from './backup-snar.ts';
import { chainLockUntil, extendChainLocks } from './chain-locks.ts';
import type { IncrementalStore } from './incremental-state.ts';

export interface ChainDecision {
  plan: IncrementalPlan;
  fingerprint: string;
  /** The kept snapshot file an incremental continues from. */
  snar: string | undefined;
  /** The backups an incremental needs (nearest first), whose locks must outlast it. */
  ancestors: Awaited<ReturnType<typeof listJobBackups>>['backups'];
}

export async function decideChain(
  name: string,
  job: BackupJob,
  o: {
    storage: Storage;
    store: IncrementalStore;
    stateDir: string;
    exclude: readonly string[];
    forceFull: boolean;
    now: Date;
    signal: AbortSignal;
  },
): Promise<ChainDecision> {
  const fingerprint = jobFingerprint({
    host: job.host,
    paths: job.paths,
    exclude: o.exclude,
    oneFileSystem: job.oneFileSystem,
    snapshot: job.snapshot,
    recipients: job.encryption?.recipients ?? [],
  });
  if (job.incremental === false)
    return { plan: { type: 'standalone' }, fingerprint, snar: undefined, ancestors: [] };
  const { backups } = await listJobBackups(o.storage, name, { signal: o.signal });
  const newest = backups.at(-1);
  // The chain is read manifest by manifest (the listing may be a cache that still names a backup
  // deleted by hand), so an incremental never continues a chain that cannot be restored.
  const chain = newest ? await checkedChain(o.storage, newest, o.signal) : undefined;
  const state = await o.store.load(name);
  const failed = failedChecks(o.stateDir, o.storage.name, name);
  const root = chain?.chain[0];
  const plan = planIncremental({
    setting: { fullEvery: fullEveryOf(job.incremental.fullEvery) },
    forceFull: o.forceFull,
    newest: newest && { id: newest.id, startedAt: newest.manifest.startedAt, chain: newest.manifest.chain },
    newestChainProblem: chain && !chain.ok ? chain.problem : undefined,
    root: root && { id: root.id, startedAt: root.manifest.startedAt, chain: root.manifest.chain },
    failedChecks: (chain?.chain ?? []).map((b) => b.id).filter((id) => failed.has(id)),
    state,
    fingerprint,
    now: o.now,
  });
  const incremental = plan.type === 'incremental';
  return {
    plan,
    fingerprint,
    snar: incremental ? state?.snar : undefined,
    ancestors: incremental && chain ? [...chain.chain].reverse() : [],
  };
}

/** The chain of the job's newest listed backup, or why it cannot be continued. */
async function checkedChain(storage: Storage, newest: BackupRef, signal: AbortSignal): Promise<ChainResult> {
  try {
    await readManifest(storage, newest.job, newest.id, signal);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    return {
      ok: false,
      chain: [],
      missing: newest.id,
      problem: `the newest listed backup ${newest.id} is gone (deleted by hand?)`,
    };
  }
  return await walkChain(storage, newest, signal);
}

/** Backups whose latest verify or drill on this machine failed (none when there is no state db). */
function failedChecks(stateDir: string, storage: string, job: string): Set<string> {
  let db: ReturnType<typeof openStateDbReadOnly>;
  try {
    db = openStateDbReadOnly(stateDir);
    if (!db) return new Set();
    const failed = [...latestChecks(db, storage, job)]
      .filter(([, c]) => c.outcome !== 'ok')
      .map(([id]) => id);
    return new Set(failed);
  } catch {
    return new Set();
  } finally {
    db?.close();
  }
}

/** The manifest's `chain` for a decision about backup `id`. */
export function chainInfo(plan: IncrementalPlan, id: string): ChainInfo | null {
  if (plan.type === 'standalone') return null;
  if (plan.type === 'full') return { type: 'full', level: 0, parent: null, root: id, reason: plan.reason };
  return { type: 'incremental', level: plan.level, parent: plan.parent, root: plan.root };
}

/** tar's snapshot file on the server: the kept one for an incremental, none for a full. */
export async function openChainSnar(
  host: Host,
  d: ChainDecision,
  transform: readonly PathTransform[] | undefined,
  o: { signal: AbortSignal; log: Logger },
): Promise<RemoteSnar | undefined> {
  if (d.plan.type === 'standalone') return undefined;
  const names = transform?.length ? memberMapper(transform) : undefined;
  return await openRemoteSnar(host, {
    local: d.snar,
    toOnDisk: names?.toOnDisk,
    toArchived: names?.toArchived,
    signal: o.signal,
    log: o.log,
  });
}

/** Right before an incremental's manifest: its ancestors' Object Lock must last as long as its own. */
export async function lockChain(
  storage: Storage,
  d: ChainDecision,
  objectLock: { days: number } | undefined,
  o: { now: Date; signal: AbortSignal },
): Promise<void> {
  const until = chainLockUntil(objectLock, o.now);
  if (until && d.ancestors.length > 0) await extendChainLocks(storage, d.ancestors, until, o.signal);
}

/** After the commit: the new snapshot file becomes the job's state (a failure only costs a full). */
export async function keepState(
  store: IncrementalStore,
  name: string,
  received: string | undefined,
  state: { backupId: string; fingerprint: string },
  log: Logger,
): Promise<void> {
  if (!received) return;
  try {
    await store.commit(name, state, received);
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'Incremental state not kept: the next backup will be a full');
    await store.discard(received).catch(() => {});
  }
}
