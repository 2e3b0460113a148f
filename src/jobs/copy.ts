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
import type { BackupJob } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { jobStorages, planCopy, policyOf } from '../plan/copy.ts';
import type { Services } from '../services.ts';
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
  const from = opts.from ?? job.storage;
  if (from === to) throw new BoError(`cannot copy ${name} from ${from} to itself`);
  const source = services.storage(from);
  const target = services.storage(to);
  const log = opts.log.child({ job: name, from, to });
  const retention = jobStorages(job).find((s) => s.storage === to)?.retention ?? job.retention;
  const deps = { services, log, signal: opts.signal, runId: opts.runId ?? randomUUID() };
  return await withJobLock(
    deps,
    target,
    name,
    'copy',
    async (signal) => {
      const now = services.clock.now();
      const [have, want] = await Promise.all([
        listJobBackups(source, name, { signal, now }),
        listJobBackups(target, name, { signal, now }),
      ]);
      const plan = planCopy({
        source: have.backups,
        target: want.backups,
        policy: policyOf(retention, job.timezone),
        now,
        only: opts.only,
      });
      const report: CopyReport = {
        job: name,
        from,
        to,
        copied: [],
        present: plan.present,
        skipped: plan.skipped,
        failed: [],
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
          report.copied.push(
            await copyBackup(source, target, ref, {
              signal,
              log,
              onBytes: (bytes) => opts.onProgress?.({ id: ref.id, bytes }),
            }),
          );
        } catch (err) {
          if (signal.aborted) throw err;
          broken.add(ref.id);
          report.failed.push({ id: ref.id, error: errorMessage(err) });
          log.error({ backupId: ref.id, err: errorMessage(err) }, 'Copy failed');
        }
      }
      if (report.copied.length > 0) await catalogAfterBackup(target, name, services.clock.now(), log);
      return report;
    },
    { waitMs: opts.lockWaitMs ?? COPY_LOCK_WAIT_MS },
  );
}

function parentOf(ref: BackupRef): string | undefined {
  return ref.manifest.chain?.type === 'incremental' ? (ref.manifest.chain.parent ?? undefined) : undefined;
}
