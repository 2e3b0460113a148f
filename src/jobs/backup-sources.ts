/**
 * The steps of a backup run around the tar stream (backup.ts calls them in order): the preflight
 * before the hooks, probing the host, and what tar reads besides the live paths (a snapshot,
 * taken after the dumps so its copy-on-write space only absorbs writes made while tar reads).
 */
import type { Manifest } from '../catalog/manifest.ts';
import type { BackupJob, Config } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import {
  type PathTransform,
  parseCaps,
  parsePathCheck,
  pathCheckCommand,
  probeCommand,
  type TarCaps,
} from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import type { SnapshotSession } from '../snapshots/session.ts';
import { backupExcludes, checkNested, openForBackup } from './backup-snapshot.ts';
import type { RunHooks } from './hooks.ts';
import type { JobRunResult } from './kinds.ts';

type SnapshotJob = BackupJob & { snapshot: NonNullable<BackupJob['snapshot']> };

function withSnapshot(job: BackupJob): SnapshotJob | undefined {
  return job.snapshot ? { ...job, snapshot: job.snapshot } : undefined;
}

/** What the preflight found: what tar leaves out, and the manifest's warnings about it. */
export interface Preflight {
  /** The job's excludes and bo's own snapshot directories. */
  exclude: string[];
  /** Nested volumes a `nested: skip` snapshot backup leaves out. */
  warnings: string[];
}

/**
 * Before anything is stored, and before the before hooks (it needs no quiescing, so writers are
 * not kept stopped for it): what a snapshot would silently lack fails the run here.
 */
export async function preflight(
  name: string,
  job: BackupJob,
  o: { host: Host; config: Config; signal: AbortSignal; log: Logger },
): Promise<Preflight> {
  const exclude = backupExcludes(job, o.config, o.log);
  const snap = withSnapshot(job);
  const warnings = snap ? await checkNested(o.host, name, snap, exclude, o) : [];
  return { exclude, warnings };
}

/** The host's tar and compressors; fails when GNU tar is missing or a path does not exist. */
export async function probeHost(host: Host, job: BackupJob, signal: AbortSignal): Promise<TarCaps> {
  const caps = parseCaps((await host.run(probeCommand(), { signal })).stdout);
  if (!caps.gnuTar) {
    throw new BoError(`${job.host} has no GNU tar (bo needs GNU tar on the server)`, {
      hint: 'install the "tar" package on the server',
    });
  }
  const missing = parsePathCheck((await host.run(pathCheckCommand(job.paths), { signal })).stdout);
  if (missing.length > 0) {
    throw new BoError(
      `${missing.map((m) => `path ${m.path} ${m.problem}`).join('; ')} on ${job.host}: nothing was backed up`,
    );
  }
  return caps;
}

/** Where tar reads: the live paths, or the run's snapshot of them (to be released at the end). */
export interface Source {
  session: SnapshotSession | undefined;
  /** tar reads the snapshot and archives under the original paths. */
  transform: PathTransform[] | undefined;
  snapshot: Manifest['snapshot'];
  warnings: string[];
}

/**
 * Takes the job's snapshot, if it has one, then runs the afterSnapshot hooks (with BO_SNAPSHOT),
 * so writers a before hook quiesced resume before tar starts.
 */
export async function openSource(
  name: string,
  job: BackupJob,
  hooks: RunHooks,
  o: { host: Host; runId: string; now: Date; signal: AbortSignal; log: Logger },
): Promise<Source> {
  const snap = withSnapshot(job);
  if (!snap) {
    await hooks.snapshotTaken();
    return { session: undefined, transform: undefined, snapshot: null, warnings: [] };
  }
  const read = await openForBackup(snap, { ...o, vol: snap.snapshot, job: name });
  try {
    await hooks.snapshotTaken({ BO_SNAPSHOT: read.session.snapshot.ref });
  } catch (err) {
    await releaseSource(read, undefined, o.log);
    throw err;
  }
  return read;
}

/**
 * Releases the snapshot at the end of the run. After a failure (no `result`) a release problem is
 * only logged; after a commit it fails the run, saying the backup itself was committed.
 */
export async function releaseSource(
  source: Pick<Source, 'session'> | undefined,
  result: JobRunResult | undefined,
  log: Logger,
): Promise<void> {
  try {
    await source?.session?.close();
  } catch (err) {
    if (!result) {
      log.error({ err: errorMessage(err) }, 'Snapshot release failed');
      return;
    }
    throw new BoError(`${errorMessage(err)} (the backup itself was committed: ${result.summary})`, {
      cause: err,
    });
  }
}
