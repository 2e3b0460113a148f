/**
 * What a backup job adds around the plain tar stream: hooks around the run, database dumps
 * stored first (each in its own object), and a snapshot the archive is read from, so the paths
 * are captured as they were at one instant. runBackup calls runBackupWithExtras, which calls it
 * back with `prepare`; the snapshot is always released when the run ends, whatever the outcome.
 * The nested-volume check (backup-snapshot.ts) runs first, before the before hooks: it walks the
 * live tree, which needs no quiescing, so writers are not kept stopped for it. Order inside
 * `prepare`: dumps, the snapshot, then the afterSnapshot hooks, so writers quiesced by a before
 * hook resume before tar starts.
 */
import type { DumpRecord, Manifest } from '../catalog/manifest.ts';
import type { BackupJob } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BackupPlan } from '../plan/backup.ts';
import type { PathTransform } from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import type { SnapshotSession } from '../snapshots/session.ts';
import type { Storage } from '../storage/storage.ts';
import { backupExcludes, checkNested, openForBackup } from './backup-snapshot.ts';
import { runDumps } from './dumps.ts';
import { withHooks } from './hooks.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';

export interface PrepareArgs {
  host: Host;
  storage: Storage;
  plan: BackupPlan;
  signal: AbortSignal;
  log: Logger;
  /** The run's stored keys; dumps are added before their upload starts. */
  written: string[];
}

export interface PreparedBackup {
  dumps: DumpRecord[];
  /** tar reads the snapshot and archives under the original paths. */
  transform: PathTransform[] | undefined;
  snapshot: Manifest['snapshot'];
  /** For the manifest's warnings, e.g. a snapshot that may not be one point in time. */
  warnings: string[];
  /** What tar leaves out (and the manifest records): the job's excludes and bo's snapshot directories. */
  exclude: string[];
}

export interface BackupExtras {
  /**
   * Runs inside the backup's guarded section, before tar: dumps first, then the snapshot (so an
   * LVM snapshot's CoW space only has to absorb the writes made while tar reads).
   */
  prepare(args: PrepareArgs): Promise<PreparedBackup>;
}

export async function runBackupWithExtras(
  name: string,
  job: BackupJob,
  ctx: JobRunContext,
  run: (extras: BackupExtras) => Promise<JobRunResult>,
): Promise<JobRunResult> {
  const host = ctx.services.host(job.host);
  const env = { BO_JOB: name, BO_HOST: job.host, BO_RUN_ID: ctx.runId, BO_KIND: 'backup' };
  const log = ctx.log.child({ job: name, host: job.host });
  const snap = job.snapshot ? { ...job, snapshot: job.snapshot } : undefined;
  let exclude: string[] = [];
  let nested: string[] = [];
  // Before anything is stored (and before the before hooks): what the snapshot would silently
  // lack fails the run.
  const preflight = async () => {
    exclude = backupExcludes(job, ctx.services.config, log);
    if (snap) nested = await checkNested(host, name, snap, exclude, { signal: ctx.signal, log });
  };
  return withHooks(
    job,
    { host, env, log, signal: ctx.signal },
    async (hooks) => {
      let session: SnapshotSession | undefined;
      const extras: BackupExtras = {
        async prepare(a) {
          const dumps = await runDumps(job.dumps, {
            host: a.host,
            storage: a.storage,
            plan: a.plan,
            level: job.compressionLevel,
            recipients: job.encryption?.recipients ?? [],
            signal: a.signal,
            log: a.log,
            written: a.written,
            onProgress: (p) => ctx.onProgress?.({ phase: `dump ${p.dump}`, bytes: p.bytes, files: 0 }),
          });
          if (!snap) {
            await hooks.snapshotTaken();
            return { dumps, transform: undefined, snapshot: null, warnings: [], exclude };
          }
          const read = await openForBackup(snap, {
            host: a.host,
            vol: snap.snapshot,
            job: name,
            runId: ctx.runId,
            now: ctx.services.clock.now(),
            log: a.log,
            signal: a.signal,
          });
          session = read.session;
          await hooks.snapshotTaken({ BO_SNAPSHOT: read.session.snapshot.ref });
          return {
            dumps,
            transform: read.transform,
            snapshot: read.snapshot,
            warnings: [...read.warnings, ...nested],
            exclude,
          };
        },
      };
      let result: JobRunResult;
      try {
        result = await run(extras);
      } catch (err) {
        await session
          ?.close()
          .catch((closeErr: unknown) =>
            ctx.log.error({ err: errorMessage(closeErr) }, 'Snapshot release failed'),
          );
        throw err;
      }
      try {
        await session?.close();
      } catch (err) {
        throw new BoError(`${errorMessage(err)} (the backup itself was committed: ${result.summary})`, {
          cause: err,
        });
      }
      return result;
    },
    preflight,
  );
}
