/**
 * The snapshot side of a backup run (called from backup-sources.ts): which of bo's own snapshot
 * directories tar leaves out, the live-side check for what a snapshot would silently lack
 * (nested subvolumes, mounts), and opening the run's snapshot with every path found in it.
 */
import type { Manifest } from '../catalog/manifest.ts';
import type { BackupJob, Config } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type PathTransform, parsePathCheck, pathCheckCommand } from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import { boSnapshotDirs, literalExclude, snapshotDirsToExclude } from '../snapshots/bo-dirs.ts';
import {
  describeNested,
  isExcluded,
  nestedCheckCommand,
  parseNestedCheck,
} from '../snapshots/nested-plan.ts';
import { pathsInSnapshot } from '../snapshots/paths.ts';
import { runChecked } from '../snapshots/run.ts';
import { openSnapshotSession, type SessionOptions, type SnapshotSession } from '../snapshots/session.ts';

/** The job's excludes plus bo's snapshot directories below its paths (logged when there are any). */
export function backupExcludes(job: BackupJob, config: Config, log: Logger): string[] {
  const dirs = snapshotDirsToExclude(boSnapshotDirs(config, job.host), job.paths);
  if (dirs.length > 0) log.info({ excluded: dirs }, "Leaving bo's snapshot directories out of the backup");
  return [...job.exclude, ...dirs.map(literalExclude)];
}

/**
 * Looks on the live side for nested subvolumes and mounts below the paths, which the snapshot
 * does not hold. Fails the run naming them, or with `nested: skip` returns manifest warnings.
 * With `oneFileSystem` tar skips them by the user's choice anyway, live or not: nothing to check.
 */
export async function checkNested(
  host: Host,
  name: string,
  job: BackupJob & { snapshot: NonNullable<BackupJob['snapshot']> },
  exclude: readonly string[],
  o: { signal: AbortSignal; log: Logger },
): Promise<string[]> {
  if (job.oneFileSystem) return [];
  const out = await runChecked(host, nestedCheckCommand(job.paths), {
    signal: o.signal,
    what: 'looking for nested subvolumes and mounts',
  });
  const nested = parseNestedCheck(out, job.paths, (p) => isExcluded(p, exclude));
  if (nested.length === 0) return [];
  const volume = job.snapshot.volume;
  if (job.snapshot.nested !== 'skip') {
    throw new BoError(
      `consistent backup of ${name}: ${nested.map(describeNested).join('; ')}; the snapshot of ${volume} does not hold ${nested.length === 1 ? 'it' : 'them'}, so tar would archive ${nested.length === 1 ? 'an empty directory' : 'empty directories'}: nothing was backed up`,
      {
        hint: 'back it up in its own job (or snapshot it too), add it to exclude, or set snapshot.nested: skip to archive it empty with a warning in the manifest',
      },
    );
  }
  const warnings = nested.map(
    (n) => `${describeNested(n)}: not in the snapshot of ${volume}, archived as an empty directory`,
  );
  for (const w of warnings) o.log.warn({ warning: w }, 'Nested volume skipped by the consistent backup');
  return warnings;
}

export interface SnapshotRead {
  session: SnapshotSession;
  transform: PathTransform[];
  snapshot: NonNullable<Manifest['snapshot']>;
  warnings: string[];
}

/** Opens the run's snapshot and checks every path is in it; on failure the snapshot is released. */
export async function openForBackup(
  job: BackupJob & { snapshot: NonNullable<BackupJob['snapshot']> },
  o: SessionOptions,
): Promise<SnapshotRead> {
  const session = await openSnapshotSession(o);
  try {
    const { view, snapshot } = session;
    const inSnapshot = pathsInSnapshot(job.paths, view, job.snapshot.volume);
    const missing = parsePathCheck(
      (await o.host.run(pathCheckCommand(inSnapshot), { signal: o.signal })).stdout,
      inSnapshot,
    );
    if (missing.length > 0) {
      throw new BoError(
        `${missing.map((m) => `${m.path} ${m.problem}`).join('; ')} in snapshot ${snapshot.ref}: nothing was backed up`,
      );
    }
    return {
      session,
      transform: [{ from: view.path, to: view.livePath }],
      snapshot: {
        provider: job.snapshot.provider,
        volume: job.snapshot.volume,
        name: snapshot.name,
        sourcePath: view.path,
      },
      warnings: (snapshot.warnings ?? []).map((w) => `snapshot ${snapshot.name}: ${w}`),
    };
  } catch (err) {
    await session
      .close()
      .catch((e: unknown) => o.log.error({ err: errorMessage(e) }, 'Snapshot release failed'));
    throw err;
  }
}
