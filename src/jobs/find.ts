/**
 * `bo find`: which backups hold the paths a pattern matches, and when their content changed,
 * from the file indexes alone (no archive is read). Every storage is searched, so it works from
 * the bucket on a fresh machine; a backup held by a copy too is read once. An incremental's tree
 * is its chain's merged index, and each backup's own index is read only once for all of them.
 */
import type { AgeIdentity } from '../archive/age/index.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import type { BackupRef } from '../catalog/backups.ts';
import { listStorageBackups } from '../catalog/catalog.ts';
import { type IndexCache, readBackupIndex } from '../catalog/chain-index.ts';
import { errorMessage, isAbortError } from '../errors.ts';
import { jobStorages } from '../plan/copy.ts';
import { findPattern } from '../plan/find-pattern.ts';
import { pathHistory, type Version } from '../plan/index-diff.ts';
import type { Services } from '../services.ts';
import type { Storage } from '../storage/storage.ts';

export interface FoundBackup {
  job: string;
  id: string;
  storage: string;
  startedAt: string;
}

export interface FoundPath {
  job: string;
  /** `/srv/mail/alice/cur/1.eml` */
  path: string;
  /** Every backup since the first that held it, oldest first (`gone` where it was not). */
  versions: Array<Version<FoundBackup>>;
}

export interface FindResult {
  paths: FoundPath[];
  /** Backups searched. */
  backups: number;
  /** Storages or backups that could not be read, one line each. */
  problems: string[];
}

export async function findInBackups(
  services: Services,
  opts: {
    pattern: string;
    job?: string | undefined;
    since?: Date | undefined;
    identities: AgeIdentity[] | undefined;
    signal: AbortSignal;
  },
): Promise<FindResult> {
  const matches = findPattern(opts.pattern);
  const problems: string[] = [];
  const backups = await allBackups(services, opts.job, opts.signal, problems);
  const byJob = new Map<string, Array<{ b: BackupRef; storage: Storage; storageName: string }>>();
  for (const x of backups) {
    if (opts.since && new Date(x.b.manifest.startedAt) < opts.since) continue;
    byJob.set(x.b.job, [...(byJob.get(x.b.job) ?? []), x]);
  }
  const paths: FoundPath[] = [];
  let searched = 0;
  for (const [job, list] of byJob) {
    list.sort((x, y) => x.b.manifest.startedAt.localeCompare(y.b.manifest.startedAt));
    const cache: IndexCache = { indexes: new Map(), refs: new Map(list.map((x) => [x.b.id, x.b])) };
    const seen = new Map<string, Array<{ backup: FoundBackup; entry: IndexEntry | undefined }>>();
    const order: FoundBackup[] = [];
    for (const { b, storage, storageName } of list) {
      let entries: IndexEntry[];
      try {
        const read = await readBackupIndex(storage, b, opts.identities, opts.signal, cache);
        entries = read.entries;
        // Only this chain's indexes can serve the next backup (an incremental of it).
        const chain = new Set(read.chain.map((c) => c.id));
        for (const id of cache.indexes.keys()) if (!chain.has(id)) cache.indexes.delete(id);
      } catch (err) {
        if (opts.signal.aborted || isAbortError(err)) throw err;
        problems.push(`${job}/${b.id}: ${errorMessage(err)}`);
        continue;
      }
      searched++;
      const backup = { job, id: b.id, storage: storageName, startedAt: b.manifest.startedAt };
      order.push(backup);
      const here = new Map<string, IndexEntry>();
      for (const e of entries) if (e.type !== 'dir' && matches(e.path)) here.set(e.path, e);
      for (const [path, versions] of seen) versions.push({ backup, entry: here.get(path) });
      for (const [path, entry] of here) {
        if (seen.has(path)) continue;
        seen.set(path, [
          ...order.slice(0, -1).map((o) => ({ backup: o, entry: undefined })),
          { backup, entry },
        ]);
      }
    }
    const names = [...seen.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const path of names) paths.push({ job, path: `/${path}`, versions: pathHistory(seen.get(path)!) });
  }
  return { paths, backups: searched, problems };
}

/** Every backup of the job (or of all jobs) in every storage, each once (a copy's is skipped). */
async function allBackups(
  services: Services,
  job: string | undefined,
  signal: AbortSignal,
  problems: string[],
): Promise<Array<{ b: BackupRef; storage: Storage; storageName: string }>> {
  const out: Array<{ b: BackupRef; storage: Storage; storageName: string }> = [];
  const seen = new Set<string>();
  for (const name of Object.keys(services.config.storage)) {
    const jobs = Object.entries(services.config.jobs)
      .filter(([, j]) => j.kind === 'backup' && jobStorages(j).some((s) => s.storage === name))
      .map(([n]) => n);
    const storage = services.storage(name);
    try {
      const listing = await listStorageBackups(storage, { jobs, job, signal });
      for (const b of listing.backups) {
        if (seen.has(`${b.job}/${b.id}`)) continue;
        seen.add(`${b.job}/${b.id}`);
        out.push({ b, storage, storageName: name });
      }
    } catch (err) {
      if (signal.aborted || isAbortError(err)) throw err;
      problems.push(`storage ${name}: ${errorMessage(err)}`);
    }
  }
  return out;
}
