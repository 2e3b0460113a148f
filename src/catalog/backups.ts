import { text } from 'node:stream/consumers';
import { errorMessage } from '../errors.ts';
import { jobPrefix, manifestKey, objectKey, parseManifestKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import { Manifest, storedVolumes } from './manifest.ts';

export interface BackupRef {
  job: string;
  id: string;
  manifest: Manifest;
}

/** Every key a backup's manifest names (archive, index, dumps, each in its volumes), the manifest's own first. */
export function backupKeys(ref: BackupRef): string[] {
  const named = storedVolumes(ref.manifest).map((v) => objectKey(ref, v.key));
  return [manifestKey(ref.job, ref.id), ...named];
}

export interface BadManifest {
  key: string;
  error: string;
}

export interface BackupListing {
  backups: BackupRef[];
  /** Manifests that exist but cannot be read or parsed: shown, never silently dropped. */
  unreadable: BadManifest[];
}

export async function readManifest(
  storage: Storage,
  job: string,
  id: string,
  signal?: AbortSignal,
): Promise<Manifest> {
  const body = await storage.get(manifestKey(job, id), { signal });
  return Manifest.parse(JSON.parse(await text(body)));
}

/**
 * Every backup in a storage target, read from the manifests alone (no local state needed),
 * oldest first. Listing errors propagate: an empty result always means "no backups".
 */
export async function listBackups(
  storage: Storage,
  opts: { job?: string | undefined; signal?: AbortSignal; concurrency?: number } = {},
): Promise<BackupListing> {
  const refs: Array<{ key: string; job: string; id: string }> = [];
  for await (const obj of storage.list(opts.job ? jobPrefix(opts.job) : '', { signal: opts.signal })) {
    const ref = parseManifestKey(obj.key);
    if (ref) refs.push({ key: obj.key, ...ref });
  }
  const backups: BackupRef[] = [];
  const unreadable: BadManifest[] = [];
  let next = 0;
  const worker = async () => {
    while (next < refs.length) {
      const ref = refs[next++]!;
      try {
        backups.push({
          job: ref.job,
          id: ref.id,
          manifest: await readManifest(storage, ref.job, ref.id, opts.signal),
        });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        unreadable.push({ key: ref.key, error: errorMessage(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, refs.length) }, worker));
  backups.sort(
    (a, b) => a.manifest.finishedAt.localeCompare(b.manifest.finishedAt) || a.id.localeCompare(b.id),
  );
  return { backups, unreadable };
}
