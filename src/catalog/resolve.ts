import { BoError, errorMessage, IntegrityError, NotFoundError, UsageError } from '../errors.ts';
import type { Services } from '../services.ts';
import { parseManifestKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import { type BackupRef, readManifest } from './backups.ts';
import { listJobBackups } from './catalog.ts';

export interface ResolvedBackup {
  storage: Storage;
  ref: BackupRef;
}

/**
 * Finds the backup a user means: a job name (with `backup` = an id or "latest"), a backup id,
 * or "job/id". Looks only at manifests, so it works on a fresh machine with just the config:
 * a name that is not a configured job is looked up in storage as a job first (as `bo list`
 * shows it), then as a backup id.
 */
export async function resolveBackup(
  services: Services,
  what: string,
  backup: string | undefined,
  signal?: AbortSignal,
  /** Search only these storages (restore --from); default the job's own, or every one. */
  only?: readonly string[],
): Promise<ResolvedBackup> {
  const { config } = services;
  const pick = backup && backup !== 'latest' ? backup : undefined;
  let job: string | undefined;
  let id: string | undefined;
  if (what.includes('/')) [job, id] = what.split('/', 2) as [string, string];
  else if (what in config.jobs) [job, id] = [what, pick];

  const jobCfg = job ? config.jobs[job] : undefined;
  const storageNames =
    only ?? (jobCfg && 'storage' in jobCfg ? [jobCfg.storage as string] : Object.keys(config.storage));
  if (storageNames.length === 0) throw new UsageError('no storage is configured');
  let jobSeen = false;
  let unreachable: BoError | undefined;
  for (const name of storageNames) {
    const storage = services.storage(name);
    let ref: Awaited<ReturnType<typeof findUnknown>>;
    try {
      ref = job ? await findInJob(storage, job, id, signal) : await findUnknown(storage, what, pick, signal);
    } catch (err) {
      // Another storage may still have it; if none does, this failure is the answer.
      if (signal?.aborted || !(err instanceof BoError) || err instanceof IntegrityError) throw err;
      unreachable ??= new BoError(`cannot search storage ${name}: ${errorMessage(err)}`, { cause: err });
      continue;
    }
    if (ref === 'no-such-id') jobSeen = true;
    else if (ref) return { storage, ref };
  }
  if (unreachable) throw unreachable;
  if (!job && jobSeen)
    throw new UsageError(`job ${what} has no backup ${pick} (see \`bo list --job ${what}\`)`);
  if (job && !id) throw new UsageError(`job ${job} has no backups yet`);
  throw new UsageError(`no backup ${job ? `${job}/` : ''}${id ?? what} found (see \`bo list\`)`);
}

async function findInJob(
  storage: Storage,
  job: string,
  id: string | undefined,
  signal?: AbortSignal,
): Promise<BackupRef | undefined> {
  if (id) {
    try {
      return { job, id, manifest: await manifestOf(storage, job, id, signal) };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }
  const { backups } = await listJobBackups(storage, job, { signal });
  return backups[backups.length - 1];
}

/** `what` as a job known to this storage only, else as a backup id of any job. */
async function findUnknown(
  storage: Storage,
  what: string,
  pick: string | undefined,
  signal?: AbortSignal,
): Promise<BackupRef | 'no-such-id' | undefined> {
  const { backups } = await listJobBackups(storage, what, { signal });
  if (backups.length > 0) {
    if (!pick) return backups[backups.length - 1];
    return backups.find((b) => b.id === pick) ?? 'no-such-id';
  }
  const keys: Array<{ job: string; id: string }> = [];
  for await (const o of storage.list('', { signal })) {
    const k = parseManifestKey(o.key);
    if (k?.id === what) keys.push(k);
  }
  const refs: BackupRef[] = [];
  for (const k of keys) refs.push({ ...k, manifest: await manifestOf(storage, k.job, k.id, signal) });
  refs.sort((a, b) => a.manifest.finishedAt.localeCompare(b.manifest.finishedAt));
  return refs[refs.length - 1];
}

async function manifestOf(storage: Storage, job: string, id: string, signal?: AbortSignal) {
  try {
    return await readManifest(storage, job, id, signal);
  } catch (err) {
    if (err instanceof BoError) throw err;
    throw new IntegrityError(`manifest of ${job}/${id} is unreadable: ${errorMessage(err)}`, { cause: err });
  }
}
