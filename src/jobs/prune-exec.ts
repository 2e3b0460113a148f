/**
 * Carries out a prune plan, deleting exactly what it says. A backup goes manifest first, so a
 * half-deleted backup is never listed as restorable: what a failure leaves behind is an orphan,
 * which the next prune collects. Orphans are re-checked right before: if their folder has a
 * manifest after all, the listing was inconsistent and nothing is deleted.
 */
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { PrunePlan } from '../plan/prune.ts';
import { folderOf, MANIFEST_NAME } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';

export interface PruneFailure {
  what: string;
  error: string;
}

export interface PruneExecution {
  backupsDeleted: number;
  /** Backups whose manifest is gone: they no longer exist. */
  deletedIds: string[];
  garbageRemoved: number;
  bytesFreed: number;
  failures: PruneFailure[];
}

const CONCURRENCY = 8;

export async function executePrunePlan(
  storage: Storage,
  plan: PrunePlan,
  opts: { signal: AbortSignal; log: Logger },
): Promise<PruneExecution> {
  const { signal, log } = opts;
  const result: PruneExecution = {
    backupsDeleted: 0,
    deletedIds: [],
    garbageRemoved: 0,
    bytesFreed: 0,
    failures: [],
  };
  const orphanFolders = new Set<string>();
  for (const r of plan.rows) {
    if (r.kind === 'orphan' && r.action === 'delete') orphanFolders.add(folderOf(r.key));
  }
  for (const folder of orphanFolders) {
    if (await storage.stat(`${folder}${MANIFEST_NAME}`)) {
      throw new BoError(
        `listing of ${plan.job} was inconsistent: ${folder}${MANIFEST_NAME} exists but was not listed; nothing was deleted`,
      );
    }
  }

  const tasks: Array<() => Promise<void>> = [];
  for (const r of plan.rows) {
    if (r.action !== 'delete') continue;
    if (r.kind === 'backup') {
      tasks.push(async () => {
        const [manifest, ...rest] = r.keys;
        try {
          await storage.delete(manifest!); // first: from here on the backup no longer exists
        } catch (err) {
          result.failures.push({ what: `backup ${plan.job}/${r.id}`, error: errorMessage(err) });
          return;
        }
        result.backupsDeleted++;
        result.deletedIds.push(r.id);
        for (const key of rest) {
          try {
            await storage.delete(key);
          } catch (err) {
            result.failures.push({
              what: `${key} (of deleted backup ${r.id}; left as an orphan)`,
              error: errorMessage(err),
            });
          }
        }
        result.bytesFreed += r.bytes;
        log.info({ backupId: r.id, reason: r.reason }, 'Backup deleted');
      });
    } else if (r.kind === 'orphan') {
      tasks.push(async () => {
        try {
          await storage.delete(r.key);
          result.garbageRemoved++;
          result.bytesFreed += r.bytes;
        } catch (err) {
          result.failures.push({ what: `orphan ${r.key}`, error: errorMessage(err) });
        }
      });
    } else {
      tasks.push(async () => {
        try {
          await storage.abortIncomplete({ key: r.key, uploadId: r.uploadId!, initiated: r.time });
          result.garbageRemoved++;
        } catch (err) {
          result.failures.push({ what: `incomplete upload ${r.key}`, error: errorMessage(err) });
        }
      });
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      signal.throwIfAborted();
      await tasks[next++]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, tasks.length) }, worker));
  return result;
}
