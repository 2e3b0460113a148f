/**
 * Carries out a prune plan, deleting exactly what it says. A backup goes manifest first, so a
 * half-deleted backup is never listed as restorable: what a failure leaves behind is an orphan,
 * which the next prune collects. Orphans are re-checked right before: if their folder has a
 * manifest after all, the listing was inconsistent and nothing is deleted.
 */
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BackupRow, PrunePlan } from '../plan/prune.ts';
import { backupRow, deletedBackups } from '../plan/prune-rows.ts';
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
  for (const r of plan.garbage) {
    if (r.kind === 'orphan' && r.action === 'delete') orphanFolders.add(folderOf(r.key));
  }
  for (const folder of orphanFolders) {
    if (await storage.stat(`${folder}${MANIFEST_NAME}`)) {
      throw new BoError(
        `listing of ${plan.job} was inconsistent: ${folder}${MANIFEST_NAME} exists but was not listed; nothing was deleted`,
      );
    }
  }

  // 1. Manifests: from here on each backup no longer exists. Chain order, see deleteManifests.
  const backups = deletedBackups(plan).map((i) => backupRow(plan, i));
  const gone = await deleteManifests(storage, plan.job, backups, result, signal);

  // 2. What is left of them, and the garbage.
  const tasks: Array<() => Promise<void>> = [];
  for (const r of gone) {
    tasks.push(async () => {
      for (const key of r.keys.slice(1)) {
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
  }
  for (const r of plan.garbage) {
    if (r.action !== 'delete') continue;
    if (r.kind === 'orphan') {
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
  await inPool(tasks, signal);
  return result;
}

/**
 * Deletes the backups' manifests in waves, so that a backup goes only after every doomed backup
 * built on it (its incremental descendants): whenever prune stops, even killed between two
 * deletes, every backup still listed has its whole chain. A backup whose dependent could not be
 * deleted stays, reported, since deleting it would break that dependent. Returns the rows whose
 * manifest is gone.
 */
async function deleteManifests(
  storage: Storage,
  job: string,
  rows: readonly BackupRow[],
  result: PruneExecution,
  signal: AbortSignal,
): Promise<BackupRow[]> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const waiting = new Map<string, number>(rows.map((r) => [r.id, 0])); // doomed children not yet gone
  for (const r of rows) if (r.parent && byId.has(r.parent)) waiting.set(r.parent, waiting.get(r.parent)! + 1);
  const blockedBy = new Map<string, string>(); // doomed backup → the dependent that stays
  const gone: BackupRow[] = [];
  const started = new Set<string>();
  const ready = (r: BackupRow) => !started.has(r.id) && !blockedBy.has(r.id);
  // Parent links that loop (only hand-made manifests can) never get to 0: those go together.
  const nextWave = () => {
    const open = rows.filter(ready);
    const leaves = open.filter((r) => waiting.get(r.id) === 0);
    return leaves.length > 0 ? leaves : open;
  };
  let wave = nextWave();
  while (wave.length > 0) {
    for (const r of wave) started.add(r.id);
    const done: BackupRow[] = [];
    await inPool(
      wave.map((r) => async () => {
        try {
          await storage.delete(r.keys[0]!);
          done.push(r);
        } catch (err) {
          result.failures.push({ what: `backup ${job}/${r.id}`, error: errorMessage(err) });
          for (let a = r.parent ? byId.get(r.parent) : undefined; a && !blockedBy.has(a.id); ) {
            blockedBy.set(a.id, r.id);
            a = a.parent ? byId.get(a.parent) : undefined;
          }
        }
      }),
      signal,
    );
    for (const r of done) {
      gone.push(r);
      result.backupsDeleted++;
      result.deletedIds.push(r.id);
      if (r.parent && waiting.has(r.parent)) waiting.set(r.parent, waiting.get(r.parent)! - 1);
    }
    wave = nextWave();
  }
  for (const [id, dependent] of blockedBy) {
    result.failures.push({
      what: `backup ${job}/${id}`,
      error: `not deleted: backup ${dependent}, built on it, could not be deleted, and deleting it would break that backup's chain`,
    });
  }
  return gone;
}

async function inPool(tasks: ReadonlyArray<() => Promise<void>>, signal: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      signal.throwIfAborted();
      await tasks[next++]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, tasks.length) }, worker));
}
