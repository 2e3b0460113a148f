/**
 * What a backup job adds around the plain tar stream: hooks around the run, database dumps
 * stored first (each in its own object), and a snapshot the archive is read from, so the paths
 * are captured as they were at one instant. runBackup calls runBackupWithExtras, which calls it
 * back with `prepare`; the snapshot is always released when the run ends, whatever the outcome.
 */
import type { DumpRecord, Manifest } from '../catalog/manifest.ts';
import type { BackupJob } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BackupPlan } from '../plan/backup.ts';
import { type PathTransform, parsePathCheck, pathCheckCommand } from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import { pathsInSnapshot } from '../snapshots/paths.ts';
import { openSnapshotSession, type SnapshotSession } from '../snapshots/session.ts';
import type { Storage } from '../storage/storage.ts';
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
  return withHooks(
    job,
    { host, env, log: ctx.log.child({ job: name, host: job.host }), signal: ctx.signal },
    async () => {
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
          if (!job.snapshot) return { dumps, transform: undefined, snapshot: null, warnings: [] };
          const vol = job.snapshot;
          session = await openSnapshotSession({
            host: a.host,
            vol,
            job: name,
            runId: ctx.runId,
            now: ctx.services.clock.now(),
            log: a.log,
            signal: a.signal,
          });
          const { view, snapshot } = session;
          const inSnapshot = pathsInSnapshot(job.paths, view, vol.volume);
          const missing = parsePathCheck(
            (await a.host.run(pathCheckCommand(inSnapshot), { signal: a.signal })).stdout,
            inSnapshot,
          );
          if (missing.length > 0) {
            throw new BoError(
              `${missing.map((m) => `${m.path} ${m.problem}`).join('; ')} in snapshot ${snapshot.ref}: nothing was backed up`,
            );
          }
          return {
            dumps,
            transform: [{ from: view.path, to: view.livePath }],
            snapshot: {
              provider: vol.provider,
              volume: vol.volume,
              name: snapshot.name,
              sourcePath: view.path,
            },
            warnings: (snapshot.warnings ?? []).map((w) => `snapshot ${snapshot.name}: ${w}`),
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
  );
}
