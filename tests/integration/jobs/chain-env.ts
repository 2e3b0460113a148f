/**
 * Incremental chains for prune, verify and lock tests, until backups write them: real backups
 * (real objects, made by the real backup job) whose manifests are rewritten to format version 2
 * with a `chain` saying full/incremental, parent, root and level. The job's catalog is rewritten
 * to match, as a backup would have left it.
 */
import { text } from 'node:stream/consumers';
import { listBackups } from '../../../src/catalog/backups.ts';
import { writeCatalog } from '../../../src/catalog/catalog.ts';
import { type ChainInfo, Manifest } from '../../../src/catalog/manifest.ts';
import { manifestKey } from '../../../src/storage/layout.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { type BackupEnv, DAY } from './backup-env.ts';

export async function readStoredManifest(storage: Storage, job: string, id: string): Promise<Manifest> {
  return Manifest.parse(JSON.parse(await text(await storage.get(manifestKey(job, id)))));
}

export async function writeStoredManifest(storage: Storage, m: Manifest): Promise<void> {
  await storage.put(manifestKey(m.job, m.id), Buffer.from(JSON.stringify(m, null, 2)), {
    contentType: 'application/json',
  });
}

/** Makes `ids` (oldest first) one chain: the first a full, each next an incremental of the one before. */
export async function linkChain(storage: Storage, job: string, ids: readonly string[]): Promise<void> {
  for (const [level, id] of ids.entries()) {
    const m = await readStoredManifest(storage, job, id);
    const chain: ChainInfo =
      level === 0
        ? { type: 'full', level: 0, parent: null, root: id, reason: 'first run' }
        : { type: 'incremental', level, parent: ids[level - 1]!, root: ids[0]! };
    await writeStoredManifest(storage, { ...m, version: 2, chain });
  }
  await refreshCatalog(storage, job);
}

/**
 * Real backups of `job`, one a day ending yesterday, linked into chains of the given lengths
 * (oldest chain first). Returns the ids per chain, oldest first.
 */
export async function backupChains(
  env: BackupEnv,
  job: string,
  lengths: readonly number[],
): Promise<string[][]> {
  const total = lengths.reduce((n, l) => n + l, 0);
  const start = Date.now() - total * DAY;
  const chains: string[][] = [];
  let i = 0;
  for (const length of lengths) {
    const ids: string[] = [];
    for (let k = 0; k < length; k++, i++) ids.push(await env.backup(job, new Date(start + i * DAY)));
    await linkChain(env.storage, job, ids);
    chains.push(ids);
  }
  return chains;
}

/** Rewrites the job's catalog from the manifests, as the last backup would have left it. */
export async function refreshCatalog(storage: Storage, job: string): Promise<void> {
  const { backups } = await listBackups(storage, { job });
  await writeCatalog(
    storage,
    job,
    backups.map((b) => b.manifest),
    new Date(),
  );
}

/** Deletes a backup by hand (manifest and every object), as a user or a lost object would. */
export async function deleteBackupByHand(storage: Storage, job: string, id: string): Promise<void> {
  const keys: string[] = [];
  for await (const o of storage.list(`${job}/${id}/`)) keys.push(o.key);
  for (const key of keys) await storage.delete(key);
}
