import { type BackupRef, listBackups } from '../catalog/backups.ts';
import { listJobBackups } from '../catalog/catalog.ts';
import { chainOf } from '../catalog/chains.ts';
import type { BackupJob, Config } from '../config/schema.ts';
import { errorMessage, throwIfAborted } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type CopyLag, copyLag, jobStorages, policyOf } from '../plan/copy.ts';
import { type BackupSizes, backupSizes } from '../sizes.ts';
import type { Storage } from '../storage/storage.ts';
import type { ProofReader, Proofs } from './proofs.ts';

export interface ChainSummary {
  /** Backups in the chain, the full included. */
  length: number;
  fullId: string;
  fullAt: string;
  /** Source bytes each incremental added, oldest first. */
  added: number[];
  /** Why the chain cannot be restored, when it cannot. */
  broken?: string;
}

/** What the manifests in storage say about one backup job: no local state involved. */
export interface BackupStatus {
  job: string;
  host: string;
  storage: string;
  schedule?: string;
  timezone?: string;
  /** Backups stored for the job. */
  count: number;
  /** The newest backup (a manifest exists only for a complete, verified backup). */
  last?: BackupSizes & { id: string; finishedAt: string; files: number; warnings: number };
  /** Source bytes of the newest backups, oldest first (at most 10): the size trend. */
  sourceSizes: number[];
  /** Manifests that exist but cannot be read. */
  unreadable: number;
  /** The newest backup's incremental chain: its length, its full, what each incremental added. */
  chain?: ChainSummary;
  /** Why the storage could not be listed. */
  error?: string;
  /** The newest verify and restore drill, from the state database. */
  proofs?: Proofs;
  /** Each of the job's copies: how far it lags the job's storage (listed, like the backups). */
  copies?: CopyLagStatus[];
}

export interface CopyLagStatus extends Partial<CopyLag> {
  storage: string;
  /** The copy's maxLag, when configured. */
  maxLag?: number | undefined;
  /** Why the copy storage could not be listed. */
  error?: string;
}

/** Lists every selected backup job's manifests, a few jobs at a time; one failing storage never hides the rest. */
export async function collectBackupStatus(
  config: Config,
  jobs: readonly string[],
  deps: {
    storage(name: string): Storage;
    log: Logger;
    signal: AbortSignal;
    concurrency?: number;
    proofs?: ProofReader | undefined;
    now?: Date | undefined;
  },
): Promise<BackupStatus[]> {
  const out: BackupStatus[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await statusOf(config, jobs[i]!, deps);
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 4, jobs.length) }, worker));
  throwIfAborted(deps.signal);
  return out;
}

async function statusOf(
  config: Config,
  name: string,
  deps: {
    storage(name: string): Storage;
    log: Logger;
    signal: AbortSignal;
    proofs?: ProofReader | undefined;
    now?: Date | undefined;
  },
): Promise<BackupStatus> {
  const job = config.jobs[name];
  if (job?.kind !== 'backup') throw new Error(`${name} is not a backup job`);
  const base: BackupStatus = {
    job: name,
    host: job.host,
    storage: job.storage,
    count: 0,
    sourceSizes: [],
    unreadable: 0,
    ...(job.schedule ? { schedule: job.schedule } : {}),
    ...(job.timezone ? { timezone: job.timezone } : {}),
  };
  const proofs = deps.proofs?.(name, job.storage);
  if (proofs && (proofs.verify || proofs.drill)) base.proofs = proofs;
  try {
    const { backups, unreadable } = await listBackups(deps.storage(job.storage), {
      job: name,
      signal: deps.signal,
    });
    base.count = backups.length;
    base.unreadable = unreadable.length;
    base.sourceSizes = backups.slice(-10).map((b) => backupSizes(b.manifest).sourceBytes);
    const last = backups.at(-1);
    if (last) {
      base.last = {
        id: last.id,
        finishedAt: last.manifest.finishedAt,
        ...backupSizes(last.manifest),
        files: last.manifest.stats.files,
        warnings: last.manifest.warnings.length,
      };
      if (last.manifest.chain) {
        const c = chainOf(last, backups);
        const full = c.chain[0]!;
        base.chain = {
          length: c.chain.length,
          fullId: full.id,
          fullAt: full.manifest.finishedAt,
          added: c.chain.slice(1).map((b) => backupSizes(b.manifest).sourceBytes),
          ...(c.ok ? {} : { broken: c.problem }),
        };
      }
    }
    if (job.copies.length > 0) base.copies = await copyLags(name, job, backups, deps);
  } catch (err) {
    if (deps.signal.aborted) throw err;
    base.error = errorMessage(err);
    deps.log.warn(
      { job: name, storage: job.storage, error: base.error },
      'Cannot list backups for the health report',
    );
  }
  return base;
}

/** Each copy's lag: what a copy run would copy now (plan/copy.ts), listed from the copy storage. */
async function copyLags(
  name: string,
  job: BackupJob,
  source: BackupRef[],
  deps: { storage(name: string): Storage; signal: AbortSignal; now?: Date | undefined },
): Promise<CopyLagStatus[]> {
  const now = deps.now ?? new Date();
  const out: CopyLagStatus[] = [];
  for (const c of jobStorages(job).filter((s) => s.role === 'copy')) {
    const base = { storage: c.storage, ...(c.maxLag !== undefined ? { maxLag: c.maxLag } : {}) };
    try {
      const { backups: target } = await listJobBackups(deps.storage(c.storage), name, {
        signal: deps.signal,
        now,
      });
      out.push({ ...base, ...copyLag({ source, target, policy: policyOf(c.retention, job.timezone), now }) });
    } catch (err) {
      if (deps.signal.aborted) throw err;
      out.push({ ...base, error: errorMessage(err) });
    }
  }
  return out;
}
