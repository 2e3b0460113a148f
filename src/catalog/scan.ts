import { errorMessage } from '../errors.ts';
import type { IncompleteUpload, ObjectInfo, Storage } from '../storage/storage.ts';
import { type BackupRef, type BadManifest, readManifest } from './backups.ts';
import { MANIFEST_NAME } from './manifest.ts';

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
  for await (const obj of storage.list(`${job}/`, opts.signal ? { signal: opts.signal } : {})) {
    listed++;
    const parts = obj.key.split('/');
    if (parts.length !== 3 || !parts[1] || !parts[2]) {
      stray.push(obj);
      continue;
    }
    const list = folders.get(parts[1]);
    if (list) list.push(obj);
    else folders.set(parts[1], [obj]);
  }
  const incomplete: IncompleteUpload[] = [];
  for await (const u of storage.listIncomplete(`${job}/`)) incomplete.push(u);

  const orphans: ObjectInfo[] = [];
  const withManifest: Array<[string, ObjectInfo[]]> = [];
  for (const [id, objects] of folders) {
    if (objects.some((o) => o.key.endsWith(`/${MANIFEST_NAME}`))) withManifest.push([id, objects]);
    else orphans.push(...objects);
  }

  const backups: ScannedBackup[] = [];
  const unreadable: BadManifest[] = [];
  let next = 0;
  const worker = async () => {
    while (next < withManifest.length) {
      const [id, objects] = withManifest[next++]!;
      const key = `${job}/${id}/${MANIFEST_NAME}`;
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
