import { randomBytes } from 'node:crypto';
import { catalogAfterBackup, readCatalog } from '../catalog/catalog.ts';
import {
  MANIFEST_VERSION,
  type Manifest,
  newBackupId,
  storedObject,
  storedVolumes,
} from '../catalog/manifest.ts';
import type { BackupJob } from '../config/schema.ts';
import { BoError, CancelledError, errorMessage } from '../errors.ts';
import { planBackup } from '../plan/backup.ts';
import { withLowPriority } from '../plan/priority.ts';
import {
  classifyTarResult,
  parseCaps,
  parsePathCheck,
  pathCheckCommand,
  probeCommand,
  tarCreateCommand,
} from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import { collectTail } from '../remote/stderr-tail.ts';
import { backupSizes, formatSizes } from '../sizes.ts';
import { manifestKey, objectKey } from '../storage/layout.ts';
import { limiterFor } from '../storage/limited.ts';
import type { Storage } from '../storage/storage.ts';
import { TOOL_VERSION } from '../version.ts';
import { type BackupExtras, runBackupWithExtras } from './backup-extras.ts';
import { streamArchive } from './backup-streams.ts';
import { copiesAfterBackup } from './copy-after-backup.ts';
import { BACKUP_LOCK_WAIT_MS, withJobLock } from './job-lock.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';

/**
 * One backup run: probe the server, stream tar from it into storage while indexing, verify,
 * then write the manifest — the commit point — last. Any failure or cancellation kills the
 * remote tar, aborts the uploads and removes what was stored: without a manifest there is no
 * backup, and no half-backup is left looking like one.
 */
export async function runBackup(name: string, job: BackupJob, ctx: JobRunContext): Promise<JobRunResult> {
  // The job's storage lock: a prune of this job (from any machine) never runs meanwhile.
  const storage = ctx.services.storage(job.storage);
  const committed = await withJobLock(
    ctx,
    storage,
    name,
    'backup',
    async (signal) => {
      const result = await runBackupLocked(name, job, { ...ctx, signal });
      await catalogAfterBackup(storage, name, ctx.services.clock.now(), ctx.log); // list cache; best effort
      return result;
    },
    { waitMs: BACKUP_LOCK_WAIT_MS },
  );
  return await copiesAfterBackup(name, job, ctx, committed); // issue 12: after the commit and the lock
}

async function runBackupLocked(
  name: string,
  job: BackupJob,
  ctx: JobRunContext,
  extras?: BackupExtras,
): Promise<JobRunResult> {
  // Hooks, dumps and the snapshot (backup-extras.ts) wrap the run and call back in with `extras`.
  if (!extras) {
    return runBackupWithExtras(name, job, ctx, (x) => runBackupLocked(name, job, ctx, x));
  }
  const { services } = ctx;
  const storage = services.storage(job.storage);
  const host = services.host(job.host);
  const startedAt = services.clock.now();
  const id = newBackupId(startedAt, () => randomBytes(3).toString('hex'));
  const log = ctx.log.child({ backupId: id });
  const ac = new AbortController();
  const signal = AbortSignal.any([ctx.signal, ac.signal]);

  // The previous backup's source bytes, for the progress line's percentage and ETA (best effort).
  const estimate = previousSourceBytes(storage, name, signal);
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

  const plan = planBackup(job, name, id, { zstd: caps.zstd, gzip: caps.gzip });
  log.info(
    { storage: storage.name, compressRemotely: plan.compressRemotely, encrypted: plan.encrypted },
    'Backup started',
  );

  const written: string[] = [objectKey(plan, plan.archiveName), objectKey(plan, plan.indexName)];
  let proc: Awaited<ReturnType<Host['exec']>> | undefined;
  try {
    const prepared = await extras.prepare({ host, storage, plan, signal, log, written });
    // Copies, limits and volumes (issue 12): the host's source limits.
    const limits = job.host === 'local' ? undefined : services.config.hosts[job.host]?.limits;
    const tar = tarCreateCommand({
      paths: job.paths,
      exclude: prepared.exclude,
      oneFileSystem: job.oneFileSystem,
      compression: plan.compression,
      level: job.compressionLevel,
      compressRemotely: plan.compressRemotely,
      caps,
      transform: prepared.transform,
    });
    const command = withLowPriority(tar, limits?.nice ?? false);
    log.debug({ command }, 'Remote command');
    proc = await host.exec(command, { signal });
    const stderr = collectTail(proc.stderr);
    const exited = proc.done;
    exited.catch(() => {});
    const totalBytes = await estimate;
    const streamed = await streamArchive({
      source: proc.stdout,
      plan,
      level: job.compressionLevel,
      recipients: job.encryption?.recipients ?? [],
      storage,
      signal,
      readLimit: limits?.read && limiterFor(limits.read, limits.timezone),
      log,
      abort: (err) => {
        ac.abort(err);
        proc?.kill();
      },
      onProgress: (p) =>
        ctx.onProgress?.({
          phase: 'streaming',
          bytes: p.sourceBytes,
          storedBytes: p.storedBytes,
          files: p.files,
          ...(totalBytes !== undefined ? { totalBytes } : {}),
        }),
    });
    const exit = await exited;
    const verdict = classifyTarResult({ exit, stderr: stderr() });
    if (!verdict.ok) throw new BoError(`tar on ${job.host} failed: ${verdict.message}`);
    for (const w of verdict.warnings) log.warn({ warning: w }, 'tar warning');

    const archive = storedObject(plan.archiveName, streamed.archive);
    const index = storedObject(plan.indexName, streamed.index);
    await verifyStored(
      storage,
      storedVolumes({ archive, index, dumps: prepared.dumps }).map((v) => [objectKey(plan, v.key), v.size]),
    );
    const manifest: Manifest = {
      format: 'bo-backup',
      version: MANIFEST_VERSION,
      id,
      job: name,
      host: job.host,
      hostAddress: job.host === 'local' ? 'local' : (services.config.hosts[job.host]?.address ?? job.host),
      paths: job.paths,
      exclude: prepared.exclude,
      startedAt: startedAt.toISOString(),
      finishedAt: services.clock.now().toISOString(),
      tool: { name: 'bo', version: TOOL_VERSION },
      compression: plan.compression,
      encryption: plan.encrypted ? { type: 'age', recipients: job.encryption!.recipients } : null,
      archive,
      index,
      dumps: prepared.dumps,
      stats: {
        files: streamed.stats.files,
        dirs: streamed.stats.dirs,
        bytes: streamed.stats.bytes,
        tarBytes: streamed.stats.tarBytes,
      },
      warnings: [...prepared.warnings, ...verdict.warnings],
      snapshot: prepared.snapshot,
      chain: null,
    };
    signal.throwIfAborted();
    // The commit point: from here on the backup exists.
    await storage.put(manifestKey(name, id), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), {
      signal,
      contentType: 'application/json',
    });
    const sizes = backupSizes(manifest);
    log.info({ files: manifest.stats.files, ...sizes }, 'Backup committed');
    return {
      backupId: id,
      bytes: sizes.sourceBytes,
      storedBytes: sizes.storedBytes,
      files: manifest.stats.files,
      summary: `${name}: backup ${id} (${manifest.stats.files} files, ${formatSizes(sizes)})`,
    };
  } catch (err) {
    ac.abort(err);
    proc?.kill();
    await removeObjects(storage, written, log);
    // Only the caller's signal means "cancelled": the internal abort above makes every branch
    // reject with an AbortError, which must not hide the failure that caused it.
    if (ctx.signal.aborted) throw new CancelledError(`backup of ${name} cancelled; nothing was kept`);
    if (err instanceof BoError) throw err;
    throw new BoError(`backup of ${name} failed: ${errorMessage(err)}`, { cause: err });
  }
}

/** The newest cataloged backup's source bytes; undefined when there is none or it cannot be read. */
async function previousSourceBytes(storage: Storage, job: string, signal: AbortSignal) {
  const backups = await readCatalog(storage, job, signal).catch(() => undefined);
  return backups?.at(-1)?.stats.bytes;
}

async function verifyStored(storage: Storage, expected: Array<[string, number]>): Promise<void> {
  for (const [key, size] of expected) {
    const info = await storage.stat(key);
    if (!info || info.size !== size) {
      throw new BoError(
        `stored object ${key} is ${info ? `${info.size} bytes, expected ${size}` : 'missing'}`,
      );
    }
  }
}

/** Best effort: a failed run must not leave objects behind; prune removes any that survive. */
async function removeObjects(storage: Storage, keys: string[], log: JobRunContext['log']): Promise<void> {
  for (const key of keys) {
    try {
      await storage.delete(key);
    } catch (err) {
      log.warn({ key, err: errorMessage(err) }, 'Could not remove object of failed backup');
    }
  }
}
