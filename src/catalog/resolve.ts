import { UsageError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { Storage } from '../storage/storage.ts';
import { type BackupRef, listBackups } from './backups.ts';

export interface ResolvedBackup {
  storage: Storage;
  ref: BackupRef;
}

/**
 * Finds the backup a user means: a job name (with `backup` = an id or "latest"), a backup id,
 * or "job/id". Looks only at manifests, so it works on a fresh machine with just the config.
 */
export async function resolveBackup(
  services: Services,
  what: string,
  backup: string | undefined,
  signal?: AbortSignal,
): Promise<ResolvedBackup> {
  const { config } = services;
  let job: string | undefined;
  let id: string | undefined;
  if (what.includes('/')) [job, id] = what.split('/', 2) as [string, string];
  else if (what in config.jobs) {
    job = what;
    id = backup && backup !== 'latest' ? backup : undefined;
  } else id = what;

  const jobCfg = job ? config.jobs[job] : undefined;
  const storageNames =
    jobCfg && 'storage' in jobCfg ? [jobCfg.storage as string] : Object.keys(config.storage);
  if (storageNames.length === 0) throw new UsageError('no storage is configured');
  for (const name of storageNames) {
    const storage = services.storage(name);
    const { backups } = await listBackups(storage, { job, signal });
    const matches = backups.filter((b) => (job ? b.job === job : true) && (id ? b.id === id : true));
    const ref = matches[matches.length - 1];
    if (ref) return { storage, ref };
  }
  if (job && !id) throw new UsageError(`job ${job} has no backups yet`);
  throw new UsageError(`no backup ${job ? `${job}/` : ''}${id ?? what} found (see \`bo list\`)`);
}
