import { randomBytes } from 'node:crypto';
import { catalogAfterBackup, readCatalog } from '../catalog/catalog.ts';
import { newBackupId, storedObject, storedVolumes } from '../catalog/manifest.ts';
import type { BackupJob } from '../config/schema.ts';
import { BoError, CancelledError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { planBackup } from '../plan/backup.ts';
import type { IncrementalPlan } from '../plan/incremental.ts';
import { withLowPriority } from '../plan/priority.ts';
import { classifyTarResult, tarCreateCommand } from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import { collectTail } from '../remote/stderr-tail.ts';
import { backupSizes, formatSizes } from '../sizes.ts';
import { manifestKey, objectKey } from '../storage/layout.ts';
import { limiterFor } from '../storage/limited.ts';
import type { Storage } from '../storage/storage.ts';
import { buildManifest, commitManifest, UncertainCommitError } from './backup-commit.ts';
import { chainInfo, decideChain, keepState, lockChain, openChainSnar } from './backup-incremental.ts';
import type { RemoteSnar } from './backup-snar.ts';
import {
  openSource,
  type Preflight,
  preflight,
  probeHost,
  releaseSource,
  type Source,
} from './backup-sources.ts';
import { streamArchive } from './backup-streams.ts';
import { copiesAfterBackup } from './copy-after-backup.ts';
import { runDumps } from './dumps.ts';
import { type RunHooks, withHooks } from './hooks.ts';
import { fileIncrementalStore } from './incremental-state.ts';
import { BACKUP_LOCK_WAIT_MS, withJobLock } from './job-lock.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';

/**
 * One backup run, top to bottom: lock → preflight → hooks → plan (full or incremental) → dumps →
 * snapshot → stream → verify → chain state and locks → manifest → keep state → release. The
 * manifest, written last, is the commit point. Any failure or
 * cancellation before it kills the remote tar, aborts the uploads and removes what was stored:
 * without a manifest there is no backup, and no half-backup is left looking like one.
 */
export async function runBackup(name: string, job: BackupJob, ctx: JobRunContext): Promise<JobRunResult> {
  const storage = ctx.services.storage(job.storage);
  const host = ctx.services.host(job.host);
  // Lock: a prune of this job (from any machine) never runs meanwhile.
  const committed = await withJobLock(
    ctx,
    storage,
    name,
    'backup',
    async (signal) => {
      const run = { ...ctx, signal };
      const o = { host, config: ctx.services.config, signal, log: ctx.log };
      let checked: Preflight | undefined;
      const env = { BO_JOB: name, BO_HOST: job.host, BO_RUN_ID: ctx.runId, BO_KIND: 'backup' };
      const result = await withHooks(
        job,
        { host, env, log: ctx.log, signal },
        (hooks) => backupHooked(name, job, run, { storage, host, hooks, checked: checked! }),
        async () => {
          checked = await preflight(name, job, o);
        },
      );
      await catalogAfterBackup(storage, name, ctx.services.clock.now(), ctx.log); // list cache; best effort
      return result;
    },
    { waitMs: BACKUP_LOCK_WAIT_MS },
  );
  // Copies (issue 12): after the commit and the lock, from this storage, never from the host.
  return await copiesAfterBackup(name, job, ctx, committed);
}

/** Inside the lock and the before/after hooks: plan, dumps, snapshot, stream, verify, commit. */
async function backupHooked(
  name: string,
  job: BackupJob,
  ctx: JobRunContext,
  o: { storage: Storage; host: Host; hooks: RunHooks; checked: Preflight },
): Promise<JobRunResult> {
  const { services } = ctx;
  const { storage, host } = o;
  const startedAt = services.clock.now();
  const id = newBackupId(startedAt, () => randomBytes(3).toString('hex'));
  const log = ctx.log.child({ backupId: id });
  // Aborted on the first failure anywhere, so every other branch stops too.
  const ac = new AbortController();
  const signal = AbortSignal.any([ctx.signal, ac.signal]);

  // The previous backup's source bytes, for the progress line's percentage and ETA (best effort).
  const estimate = previousSourceBytes(storage, name, signal);
  // Plan: what tar runs, and whether this backup continues the job's chain or starts one.
  const caps = await probeHost(host, job, signal);
  const plan = planBackup(job, name, id, { zstd: caps.zstd, gzip: caps.gzip, split: caps.split });
  const store = services.incremental?.() ?? fileIncrementalStore(services.config.stateDir);
  const chain = await decideChain(name, job, {
    storage,
    store,
    stateDir: services.config.stateDir,
    exclude: o.checked.exclude,
    forceFull: ctx.full ?? false,
    now: startedAt,
    signal,
  });
  const kind = describeChain(chain.plan);
  log.info(
    {
      storage: storage.name,
      compressRemotely: plan.compressRemotely,
      frames: plan.frames,
      encrypted: plan.encrypted,
      chain: chain.plan.type,
      ...(chain.plan.type === 'full' ? { fullReason: chain.plan.reason } : {}),
      ...(chain.plan.type === 'incremental'
        ? { parent: chain.plan.parent, chainLevel: chain.plan.level }
        : {}),
    },
    'Backup started',
  );
  const written: string[] = [objectKey(plan, plan.archiveName), objectKey(plan, plan.indexName)];
  let source: Source | undefined;
  let snar: RemoteSnar | undefined;
  let received: string | undefined;
  let proc: Awaited<ReturnType<Host['exec']>> | undefined;
  let result: JobRunResult;
  try {
    // Dumps, each stored in its own object first.
    const dumps = await runDumps(job.dumps, {
      host,
      storage,
      plan,
      level: job.compressionLevel,
      recipients: job.encryption?.recipients ?? [],
      signal,
      log,
      written,
      onProgress: (p) => ctx.onProgress?.({ phase: `dump ${p.dump}`, bytes: p.bytes, files: 0 }),
    });
    // Snapshot, then the afterSnapshot hooks.
    source = await openSource(name, job, o.hooks, {
      host,
      runId: ctx.runId,
      now: services.clock.now(),
      signal,
      log,
    });
    // Stream: tar on the host into the archive and the index; an incremental reads tar's
    // snapshot file of the parent backup, a chain's full starts an empty one.
    snar = await openChainSnar(host, chain, source.transform, { signal, log });
    // Source limits (issue 12): the host's tar at low priority, and a read rate.
    const limits = job.host === 'local' ? undefined : services.config.hosts[job.host]?.limits;
    const tar = tarCreateCommand({
      paths: job.paths,
      exclude: o.checked.exclude,
      oneFileSystem: job.oneFileSystem,
      compression: plan.compression,
      level: job.compressionLevel,
      compressRemotely: plan.compressRemotely,
      frameSize: plan.frames === 'server' ? plan.frameSize : undefined,
      caps,
      transform: source.transform,
      listedIncremental: snar?.path,
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
    const verdict = classifyTarResult({ exit: await exited, stderr: stderr() });
    if (!verdict.ok) throw new BoError(`tar on ${job.host} failed: ${verdict.message}`);
    for (const w of verdict.warnings) log.warn({ warning: w }, 'tar warning');
    // Verify: every stored object (each volume) has the size streamed.
    const stored = storedVolumes({
      archive: storedObject(plan.archiveName, streamed.archive),
      index: storedObject(plan.indexName, streamed.index),
      dumps,
    }).map((v): [string, number] => [objectKey(plan, v.key), v.size]);
    written.push(...stored.map(([key]) => key).filter((key) => !written.includes(key)));
    await verifyStored(storage, stored);
    // Chain: the new snapshot file comes home (kept under a temporary name until the commit),
    // and the ancestors' Object Lock is made to last as long as this backup's.
    received = await snar?.fetch(store, name, ctx.runId, signal);
    const storageCfg = services.config.storage[job.storage];
    const objectLock = storageCfg?.type === 's3' ? storageCfg.objectLock : undefined;
    await lockChain(storage, chain, objectLock, { now: services.clock.now(), signal });
    // Manifest: the commit point (an uncertain write is settled first).
    const manifest = buildManifest({
      id,
      name,
      job,
      config: services.config,
      plan,
      startedAt,
      finishedAt: services.clock.now(),
      exclude: o.checked.exclude,
      streamed,
      dumps,
      snapshot: source.snapshot,
      warnings: [...source.warnings, ...o.checked.warnings, ...verdict.warnings],
      chain: chainInfo(chain.plan, id),
    });
    signal.throwIfAborted();
    await ctx.fence?.(); // a cluster node that lost the run's lease must not commit
    await commitManifest(
      storage,
      manifestKey(name, id),
      Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      {
        signal,
        log,
      },
    );
    // The next run continues from this backup (if this fails, it is a full, saying why).
    await keepState(store, name, received, { backupId: id, fingerprint: chain.fingerprint }, log);
    received = undefined;
    const { stats } = manifest;
    const sizes = backupSizes(manifest);
    log.info({ files: stats.files, ...sizes, chain: chain.plan.type }, 'Backup committed');
    result = {
      backupId: id,
      bytes: sizes.sourceBytes,
      storedBytes: sizes.storedBytes,
      files: stats.files,
      summary: `${name}: backup ${id} (${kind}; ${stats.files} files, ${formatSizes(sizes)})`,
      ...(manifest.chain
        ? {
            note: kind,
            chain: { type: manifest.chain.type, level: manifest.chain.level, root: manifest.chain.root },
          }
        : {}),
    };
  } catch (err) {
    ac.abort(err);
    proc?.kill();
    // A manifest that may be stored keeps its objects: a listed backup must stay whole.
    if (!(err instanceof UncertainCommitError)) await removeObjects(storage, written, log);
    if (received) await store.discard(received).catch(() => {});
    await snar?.close();
    await releaseSource(source, undefined, log);
    // Only the caller's signal means "cancelled": the internal abort above makes every branch
    // reject with an AbortError, which must not hide the failure that caused it.
    if (ctx.signal.aborted && !(err instanceof UncertainCommitError))
      throw new CancelledError(`backup of ${name} cancelled; nothing was kept`);
    if (err instanceof BoError) throw err;
    throw new BoError(`backup of ${name} failed: ${errorMessage(err)}`, { cause: err });
  }
  await snar?.close();
  // Release the snapshot.
  await releaseSource(source, result, log);
  return result;
}

/** "incremental, level 2" / "full: first backup of the job" / "full" (standalone). */
function describeChain(p: IncrementalPlan): string {
  if (p.type === 'incremental') return `incremental, level ${p.level}`;
  return p.type === 'full' ? `full: ${p.reason}` : 'full';
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
async function removeObjects(storage: Storage, keys: string[], log: Logger): Promise<void> {
  for (const key of keys) {
    try {
      await storage.delete(key);
    } catch (err) {
      log.warn({ key, err: errorMessage(err) }, 'Could not remove object of failed backup');
    }
  }
}
