import { errorMessage } from '../errors.ts';
import { backupFolder, jobPrefix, MANIFEST_NAME, manifestKey, parseBackupKey } from '../storage/layout.ts';
import type { IncompleteUpload, ObjectInfo, Storage } from '../storage/storage.ts';
import { type BadManifest, readManifest } from './backups.ts';
import { catalogPruneManifests, type PruneManifest, pruneManifest } from './prune-manifests.ts';

export interface ScannedBackup {
  job: string;
  id: string;
  /** What prune needs of the manifest: from the job catalog when it has it, else the manifest read. */
  manifest: PruneManifest;
  /** The names of the objects listed in the backup's folder, the manifest's included. */
  names: string[];
  /** Their total size. */
  bytes: number;
}

/**
 * Every key of a backup, each once: its manifest's first, then the objects the manifest names
 * (archive, index, dumps), then any other object listed in its folder. All are built on one
 * string of the folder, so V8 keeps each as a small pair (folder, name), not a copy of both.
 */
export function scannedKeys(b: ScannedBackup): string[] {
  const folder = backupFolder(b.job, b.id);
  const names: string[] = [];
  for (const n of b.manifest.named) if (n !== MANIFEST_NAME && !names.includes(n)) names.push(n);
  for (const n of b.names) if (n !== MANIFEST_NAME && !names.includes(n)) names.push(n);
  return [folder + MANIFEST_NAME, ...names.map((n) => folder + n)];
}

/** Everything stored for one job, from one listing: what prune plans with. */
export interface JobScan {
  job: string;
  backups: ScannedBackup[];
  /** Manifests that exist but cannot be read or parsed, or name another backup. */
  unreadable: BadManifest[];
  /** Objects in backup folders without a manifest: leftovers of failed runs. */
  orphans: ObjectInfo[];
  /** Keys not shaped `<job>/<id>/<name>`: not bo's, left alone. */
  stray: ObjectInfo[];
  incomplete: IncompleteUpload[];
  /** Objects listed under the job's folder. */
  listed: number;
}

/**
 * Lists `<job>/` once and reads every manifest in it: from the job catalog when it has it
 * (manifests never change, so a copy is as good as the original, and 200,000 GETs are minutes),
 * else from storage. What decides that a backup exists is the listing, never the catalog. Any
 * listing error propagates: a partial listing must never look like a complete one. Manifest read
 * errors are collected in `unreadable` so the caller can refuse to act on an incomplete picture.
 */
export async function scanJob(
  storage: Storage,
  job: string,
  opts: { signal?: AbortSignal | undefined; concurrency?: number } = {},
): Promise<JobScan> {
  const cached = await catalogPruneManifests(storage, job, opts.signal);
  // Per folder only names (one string each for the whole job) and a size: a job can hold
  // 200,000 backups. Objects are kept whole only in a folder with no manifest seen yet.
  const folders = new Map<string, Folder>();
  const names = new Map<string, string>();
  const stray: ObjectInfo[] = [];
  let listed = 0;
  const seen = { uploads: [] as IncompleteUpload[], complete: false };
  const signal = opts.signal ? { signal: opts.signal } : {};
  for await (const obj of storage.list(jobPrefix(job), { ...signal, incomplete: seen })) {
    listed++;
    const parsed = parseBackupKey(obj.key);
    if (!parsed) {
      stray.push(obj);
      continue;
    }
    const name = names.get(parsed.name) ?? parsed.name;
    names.set(name, name);
    let f = folders.get(parsed.id);
    if (!f) {
      f = { names: [], bytes: 0, pending: [] };
      folders.set(parsed.id, f);
    }
    f.names.push(name);
    f.bytes += obj.size;
    if (name === MANIFEST_NAME) f.pending = undefined;
    else f.pending?.push(obj);
  }
  // A filesystem finds its temp files in the same walk; S3 lists its multipart uploads apart.
  const incomplete = seen.complete ? seen.uploads : [];
  if (!seen.complete) for await (const u of storage.listIncomplete(jobPrefix(job))) incomplete.push(u);

  const orphans: ObjectInfo[] = [];
  const withManifest: Array<[string, Folder]> = [];
  for (const [id, f] of folders) {
    if (f.pending) orphans.push(...f.pending);
    else withManifest.push([id, f]);
  }
  folders.clear();

  const backups: ScannedBackup[] = [];
  const unreadable: BadManifest[] = [];
  let next = 0;
  const worker = async () => {
    while (next < withManifest.length) {
      const [id, { names, bytes }] = withManifest[next++]!;
      const key = manifestKey(job, id);
      const known = cached?.get(id);
      if (known) {
        backups.push({ job, id, manifest: known, names, bytes });
        continue;
      }
      try {
        const manifest = pruneManifest(await readManifest(storage, job, id, opts.signal));
        if (manifest.job !== job || manifest.id !== id) {
          unreadable.push({
            key,
            error: `manifest describes ${manifest.job}/${manifest.id}, not ${job}/${id}`,
          });
        } else backups.push({ job, id, manifest, names, bytes });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        unreadable.push({ key, error: errorMessage(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, withManifest.length) }, worker));
  // Plain code-unit order: ISO times and ids are ASCII, and localeCompare is slow on 200,000.
  backups.sort((a, b) => {
    const x = a.manifest.startedAt;
    const y = b.manifest.startedAt;
    if (x !== y) return x < y ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return { job, backups, unreadable, orphans, stray, incomplete, listed };
}

interface Folder {
  names: string[];
  bytes: number;
  /** Its objects until its manifest is listed: all of them, for a folder without one. */
  pending: ObjectInfo[] | undefined;
}
