/**
 * A restore drill: restore a backup (or a sample of its files) into a fresh scratch directory,
 * locally or on a server, prove every restored file matches the index (while streaming, then
 * again from disk), remove the scratch copy, and report how long it all took. The result is
 * recorded as "last proven restorable" by the caller.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgeIdentity } from '../archive/age/index.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import type { BackupRef } from '../catalog/backups.ts';
import { readBackupIndex } from '../catalog/chain-index.ts';
import { BoError, errorMessage, IntegrityError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { shellQuote } from '../plan/shell.ts';
import type { Host } from '../remote/host.ts';
import type { Storage } from '../storage/storage.ts';
import { checkLocalTree, checkRemoteTree, expectedHashes } from './drill-check.ts';
import { memberPath, restoreBackup } from './restore.ts';
import { coldError, coldObjects } from './tiers.ts';

export type DrillTarget = { kind: 'local'; parent: string } | { kind: 'host'; host: Host; parent: string };

export interface DrillOutcome {
  storage: string;
  job: string;
  id: string;
  /** Where the scratch copy was (it is gone now unless `removed` is false). */
  target: string;
  status: 'ok' | 'failed';
  /** Files restored and checked against the index on disk. */
  files: number;
  bytes: number;
  sampled: boolean;
  durationMs: number;
  problems: string[];
  removed: boolean;
}

/** At most this many files are sampled: every one becomes an argument of the restore. */
export const MAX_SAMPLE_FILES = 256;

export async function drillBackup(
  storage: Storage,
  ref: BackupRef,
  opts: {
    target: DrillTarget;
    /** Share of files to restore, in (0, 1]; undefined restores everything. */
    sample?: number | undefined;
    identities?: AgeIdentity[] | undefined;
    signal: AbortSignal;
    log: Logger;
    random?: () => number;
    now?: () => number;
  },
): Promise<DrillOutcome> {
  const now = opts.now ?? Date.now;
  const started = now();
  const { signal, target } = opts;
  // An incremental's drill restores its whole chain and proves every file of the merged tree; a
  // chain that cannot be read (a missing or damaged backup in it) is a failed drill, not a crash.
  let index: Awaited<ReturnType<typeof readBackupIndex>>['entries'];
  let chain: Awaited<ReturnType<typeof readBackupIndex>>['chain'];
  try {
    ({ chain, entries: index } = await readBackupIndex(storage, ref, opts.identities, signal));
  } catch (err) {
    if (signal.aborted || !(err instanceof IntegrityError)) throw err;
    const base = { storage: storage.name, job: ref.job, id: ref.id, target: '-', sampled: false };
    return {
      ...base,
      status: 'failed',
      files: 0,
      bytes: 0,
      problems: [errorMessage(err)],
      removed: true,
      durationMs: now() - started,
    };
  }
  // An archive tier (a cold copy): a drill never requests tier restores by itself.
  const cold = await coldObjects(storage, chain);
  if (cold.length > 0) throw coldError(storage, cold, `${ref.job}/${ref.id}`, 'drill');
  const include =
    opts.sample !== undefined && opts.sample < 1
      ? sampleFiles(index, opts.sample, opts.random ?? Math.random)
      : [];
  const chosen = new Set(include);
  const selected = include.length ? index.filter((e) => chosen.has(e.path)) : index;
  const hashes = expectedHashes(selected, index);

  const scratch = await makeScratch(target, ref.job, signal);
  const where = target.kind === 'local' ? scratch : `${target.host.name}:${scratch}`;
  const base = {
    storage: storage.name,
    job: ref.job,
    id: ref.id,
    target: where,
    sampled: include.length > 0,
  };
  opts.log.info(
    { job: ref.job, backupId: ref.id, target: where, sampled: base.sampled },
    'Restore drill started',
  );
  let outcome: Omit<DrillOutcome, 'removed' | 'durationMs'>;
  try {
    const restored = await restoreBackup({
      storage,
      ref,
      target:
        target.kind === 'local'
          ? { kind: 'local', dir: scratch }
          : { kind: 'host', host: target.host, dir: scratch },
      include,
      identities: opts.identities,
      signal,
      log: opts.log,
    });
    const check =
      target.kind === 'local'
        ? await checkLocalTree(scratch, selected, hashes, signal)
        : await checkRemoteTree(target.host, scratch, hashes, signal);
    outcome = {
      ...base,
      status: check.problems.length ? 'failed' : 'ok',
      files: check.checked,
      bytes: restored.bytes,
      problems: check.problems,
    };
  } catch (err) {
    if (signal.aborted) {
      await removeScratch(target, scratch, opts.log);
      throw err;
    }
    outcome = { ...base, status: 'failed', files: 0, bytes: 0, problems: [errorMessage(err)] };
  }
  const removed = await removeScratch(target, scratch, opts.log);
  return { ...outcome, removed, durationMs: now() - started };
}

/** A random `share` of the regular files (at least one, at most MAX_SAMPLE_FILES). */
export function sampleFiles(index: readonly IndexEntry[], share: number, random: () => number): string[] {
  const files = index.filter((e) => e.type === 'file' && !e.nonUtf8).map((e) => memberPath(e.path));
  const n = Math.min(MAX_SAMPLE_FILES, files.length, Math.max(1, Math.ceil(files.length * share)));
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (files.length - i));
    [files[i], files[j]] = [files[j]!, files[i]!];
  }
  return files.slice(0, n);
}

/**
 * A fresh scratch directory under the target's parent. The parent must exist or be one level
 * below an existing directory (the default <stateDir>/drill): never a recursive mkdir, which on
 * procfs or a dead mount can loop forever (`--to /proc/nope` spun Node's recursive mkdir).
 */
async function makeScratch(target: DrillTarget, job: string, signal: AbortSignal): Promise<string> {
  const name = `bo-drill-${job}-`;
  signal.throwIfAborted();
  if (target.kind === 'local') {
    const cannot = (err: unknown) =>
      new BoError(`cannot create the drill directory under ${target.parent}: ${errorMessage(err)}`, {
        hint: 'give --to an existing, writable directory on local disk',
      });
    try {
      if (!(await stat(target.parent)).isDirectory()) throw new Error('not a directory');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cannot(err);
      await mkdir(target.parent, { mode: 0o700 }).catch((e: unknown) => {
        throw cannot(e);
      });
    }
    signal.throwIfAborted();
    return await mkdtemp(join(target.parent, name)).catch((e: unknown) => {
      throw cannot(e);
    });
  }
  if (!target.parent.startsWith('/'))
    throw new BoError(`drill directory on ${target.host.name} must be absolute`);
  const parent = target.parent.replace(/\/+$/, '') || '/';
  const dir = `${parent === '/' ? '' : parent}/${name}${randomBytes(6).toString('hex')}`;
  // The same rules there; `mkdir` of the last step fails rather than reuse an existing directory.
  const p = shellQuote(parent);
  const r = await target.host.run(
    `{ test -d ${p} || mkdir -m 700 -- ${p}; } && mkdir -m 700 -- ${shellQuote(dir)}`,
    { signal },
  );
  if (r.code !== 0)
    throw new BoError(`cannot create drill directory ${target.host.name}:${dir}: ${r.stderr.trim()}`);
  return dir;
}

/** Removes only the directory this drill created; a failure is logged and reported, not thrown. */
async function removeScratch(target: DrillTarget, dir: string, log: Logger): Promise<boolean> {
  try {
    if (target.kind === 'local') await removeLocal(dir);
    else {
      const r = await target.host.run(`rm -rf -- ${shellQuote(dir)}`);
      if (r.code !== 0) throw new Error(r.stderr.trim() || `rm exited ${r.code}`);
    }
    return true;
  } catch (err) {
    log.warn({ dir, err: errorMessage(err) }, 'Cannot remove the drill scratch copy');
    return false;
  }
}

/** rm -rf that also gets through restored read-only directories when not running as root. */
async function removeLocal(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    await makeWritable(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await makeWritable(join(dir, e.name));
  }
}
