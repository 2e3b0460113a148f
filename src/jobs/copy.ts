/**
 * Copies of a backup job's backups into another storage (`copies:` and `bo copy`): under the
 * job's lock in the *target* (a prune or another copy there never runs meanwhile), list both
 * sides, plan (plan/copy.ts: what the target lacks and its retention keeps, chains whole,
 * parents first), copy each backup (copy-backup.ts), then refresh the target's catalog. The
 * source is only read: its prunes and backups go on, and a backup pruned from it meanwhile is
 * reported, not fatal. One backup failing never stops the others, except its own incrementals.
 */
import { randomUUID } from 'node:crypto';
import type { BackupRef } from '../catalog/backups.ts';
import { catalogAfterBackup, listJobBackups } from '../catalog/catalog.ts';
import { ancestorsOf } from '../catalog/chains.ts';
import { withStateDb } from '../catalog/checks.ts';
import { type CopyState, recordCopyState } from '../catalog/copies.ts';
import type { BackupJob } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { jobStorages, planCopy, policyOf } from '../plan/copy.ts';
import type { Services } from '../services.ts';
import { chainLockUntil, extendChainLocks } from './chain-locks.ts';
import { type CopiedBackup, copyBackup } from './copy-backup.ts';
import { withJobLock } from './job-lock.ts';

/** A copy waits this long for a prune (or another copy) of the job in the target. */
export const COPY_LOCK_WAIT_MS = 10 * 60_000;

export interface CopyReport {
  job: string;
  from: string;
  to: string;
  copied: CopiedBackup[];
  /** Already in the target. */
  present: string[];
  skipped: Array<{ id: string; reason: string }>;
  failed: Array<{ id: string; error: string }>;
  /** Backups the target held before the run, and those the run set out to copy (id, finish time). */
  held: Array<{ id: string; at: string }>;
  planned: Array<{ id: string; at: string }>;
}

export interface CopyOptions {
  /** The storage to copy from; default the job's own. */
  from?: string | undefined;
  /** Copy these backups (and what their chains need) instead of everything missing. */
  only?: readonly string[] | undefined;
  signal: AbortSignal;
  log: Logger;
  runId?: string | undefined;
  lockWaitMs?: number | undefined;
  onProgress?: ((p: { id: string; bytes: number }) => void) | undefined;
}

/** What a copy needs of a job: its storage, retention, copies and time zone. */
export type CopiedJob = Pick<BackupJob, 'storage' | 'retention' | 'copies' | 'timezone'>;

export async function copyJob(
  services: Services,
  name: string,
  job: CopiedJob,
  to: string,
  opts: CopyOptions,
): Promise<CopyReport> {
  const log = opts.log.child({ job: name, from: opts.from ?? job.storage, to });
  const record = (state: CopyState) =>
    withStateDb(services.config, log, async (db) => {
      if (db) recordCopyState(db, name, to, state);
    }).catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'Cannot record the copy state'));
  let report: CopyReport;
  try {
    report = await copyUnderLock(services, name, job, to, { ...opts, log });
  } catch (err) {
    const at = services.clock.now().toISOString();
    if (!opts.signal.aborted) await record({ at, outcome: 'failed', error: errorMessage(err), missing: 0 });
    throw err;
  }
  await record(copyState(report, services.clock.now()));
  return report;
}

/** Under the job's lock in the target: list both sides, plan, copy each backup, refresh the catalog. */
async function copyUnderLock(
  services: Services,
  name: string,
  job: CopiedJob,
  to: string,
  opts: CopyOptions,
): Promise<CopyReport> {
  const { log } = opts;
  const from = opts.from ?? job.storage;
  if (from === to) throw new BoError(`cannot copy ${name} from ${from} to itself`);
  const source = services.storage(from);
  const target = services.storage(to);
  const retention = jobStorages(job).find((s) => s.storage === to)?.retention ?? job.retention;
  const deps = { services, log, signal: opts.signal, runId: opts.runId ?? randomUUID() };
  const targetCfg = services.config.storage[to];
  const objectLock = targetCfg?.type === 's3' ? targetCfg.objectLock : undefined;
  const work = async (signal: AbortSignal): Promise<CopyReport> => {
    const now = services.clock.now();
    const [have, want] = await Promise.all([
      listJobBackups(source, name, { signal, now }),
      listJobBackups(target, name, { signal, now }),
    ]);
    const policy = policyOf(retention, job.timezone);
    const plan = planCopy({ source: have.backups, target: want.backups, policy, now, only: opts.only });
    const report: CopyReport = {
      job: name,
      from,
      to,
      copied: [],
      present: plan.present,
      skipped: plan.skipped,
      failed: [],
      held: want.backups.map(stamp),
      planned: plan.copy.map(stamp),
    };
    const broken = new Set<string>();
    for (const ref of plan.copy) {
      const parent = parentOf(ref);
      if (parent && broken.has(parent)) {
        broken.add(ref.id);
        report.skipped.push({ id: ref.id, reason: `its parent ${parent} could not be copied` });
        continue;
      }
      try {
        const onBytes = (bytes: number) => opts.onProgress?.({ id: ref.id, bytes });
        // An incremental's ancestors in the target stay locked as long as it (as a backup does).
        const ancestors = parentOf(ref) ? ancestorsOf(ref, [...have.backups, ...want.backups]) : [];
        const beforeCommit = async () => {
          const until = chainLockUntil(objectLock, services.clock.now());
          if (until && ancestors.length > 0) await extendChainLocks(target, ancestors, until, signal);
        };
        report.copied.push(await copyBackup(source, target, ref, { signal, log, onBytes, beforeCommit }));
      } catch (err) {
        if (signal.aborted) throw err;
        broken.add(ref.id);
        report.failed.push({ id: ref.id, error: errorMessage(err) });
        log.error({ backupId: ref.id, err: errorMessage(err) }, 'Copy failed');
      }
    }
    if (report.copied.length > 0) await catalogAfterBackup(target, name, services.clock.now(), log);
    return report;
  };
  return await withJobLock(deps, target, name, 'copy', work, {
    waitMs: opts.lockWaitMs ?? COPY_LOCK_WAIT_MS,
  });
}

const stamp = (b: BackupRef) => ({ id: b.id, at: b.manifest.finishedAt });

/** What a copy run leaves for `bo status`: the newest backup in the target, and what it still lacks. */
function copyState(r: CopyReport, now: Date): CopyState {
  const copied = new Set(r.copied.map((c) => c.id));
  const have = [...r.held, ...r.planned.filter((p) => copied.has(p.id))];
  const lacking = r.planned.filter((p) => !copied.has(p.id));
  const oldest = (xs: typeof have) =>
    xs.reduce<(typeof have)[number] | undefined>((o, x) => (!o || x.at < o.at ? x : o), undefined);
  const newest = have.reduce<(typeof have)[number] | undefined>(
    (n, x) => (!n || x.at > n.at ? x : n),
    undefined,
  );
  return {
    at: now.toISOString(),
    outcome: r.failed.length ? 'failed' : 'ok',
    error: r.failed[0] && `${r.failed[0].id}: ${r.failed[0].error}`,
    newest,
    missing: lacking.length,
    oldestMissing: oldest(lacking),
  };
}

function parentOf(ref: BackupRef): string | undefined {
  return ref.manifest.chain?.type === 'incremental' ? (ref.manifest.chain.parent ?? undefined) : undefined;
}
