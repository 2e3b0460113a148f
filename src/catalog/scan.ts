import { errorMessage } from '../errors.ts';
import { jobPrefix, MANIFEST_NAME, manifestKey, parseBackupKey } from '../storage/layout.ts';
import type { IncompleteUpload, ObjectInfo, Storage } from '../storage/storage.ts';
import { type BackupRef, type BadManifest, readManifest } from './backups.ts';

export interface ScannedBackup extends BackupRef {
  /** Every object listed in the backup's folder, the manifest included. */
  objects: ObjectInfo[];
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
 * Lists `<job>/` once and reads every manifest in it. Any listing error propagates: a partial
 * listing must never look like a complete one. Manifest read errors are collected in
 * `unreadable` so the caller can refuse to act on an incomplete picture.
 */
export async function scanJob(
  storage: Storage,
  job: string,
  opts: { signal?: AbortSignal | undefined; concurrency?: number } = {},
): Promise<JobScan> {
  const folders = new Map<string, ObjectInfo[]>();
  const stray: ObjectInfo[] = [];
  let listed = 0;
  for await (const obj of storage.list(jobPrefix(job), opts.signal ? { signal: opts.signal } : {})) {
    listed++;
    const parsed = parseBackupKey(obj.key);
    if (!parsed) {
      stray.push(obj);
      continue;
    }
    const list = folders.get(parsed.id);
    if (list) list.push(obj);
    else folders.set(parsed.id, [obj]);
  }
  const incomplete: IncompleteUpload[] = [];
  for await (const u of storage.listIncomplete(jobPrefix(job))) incomplete.push(u);

  const orphans: ObjectInfo[] = [];
  const withManifest: Array<[string, ObjectInfo[]]> = [];
  for (const [id, objects] of folders) {
    if (objects.some((o) => parseBackupKey(o.key)?.name === MANIFEST_NAME)) withManifest.push([id, objects]);
    else orphans.push(...objects);
  }

  const backups: ScannedBackup[] = [];
  const unreadable: BadManifest[] = [];
  let next = 0;
  const worker = async () => {
    while (next < withManifest.length) {
      const [id, objects] = withManifest[next++]!;
      const key = manifestKey(job, id);
      try {
        const manifest = await readManifest(storage, job, id, opts.signal);
        if (manifest.job !== job || manifest.id !== id) {
          unreadable.push({
            key,
            error: `manifest describes ${manifest.job}/${manifest.id}, not ${job}/${id}`,
          });
        } else backups.push({ job, id, manifest, objects });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        unreadable.push({ key, error: errorMessage(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, withManifest.length) }, worker));
  backups.sort(
    (a, b) => a.manifest.startedAt.localeCompare(b.manifest.startedAt) || a.id.localeCompare(b.id),
  );
  return { job, backups, unreadable, orphans, stray, incomplete, listed };
}
