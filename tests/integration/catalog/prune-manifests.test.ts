import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listBackups } from '../../../src/catalog/backups.ts';
import { catalogFacts, writeCatalog } from '../../../src/catalog/catalog.ts';
import { cachedPruneManifests } from '../../../src/catalog/prune-manifests.ts';
import { scanJob } from '../../../src/catalog/scan.ts';
import { encodeSummary } from '../../../src/catalog/summary-lines.ts';
import { silentLogger } from '../../../src/log.ts';
import { createFsStorage } from '../../../src/storage/fs.ts';
import { catalogSummaryKey } from '../../../src/storage/layout.ts';
import { plantBackup } from '../../fixtures/plant.ts';
import { wrapStorage } from '../jobs/backup-env.ts';

describe("prune's cached manifests", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function repoOf(ids: string[]) {
    const repo = await mkdtemp(join(tmpdir(), 'bo-prune-manifests-'));
    dirs.push(repo);
    for (const id of ids) plantBackup(repo, 'files', id, [{ path: 'etc/hosts', data: id }]);
    const storage = createFsStorage('repo', { type: 'filesystem', path: repo }, { log: silentLogger() });
    return {
      storage,
      manifests: (await listBackups(storage, { job: 'files' })).backups.map((b) => b.manifest),
    };
  }

  it("take the guard's catalog facts from the summary only when it was written with the stored catalog", async () => {
    const { storage, manifests } = await repoOf(['20261201T020000Z-aaaaaa', '20261202T020000Z-bbbbbb']);
    await writeCatalog(storage, 'files', manifests, new Date('2026-12-03T00:00:00Z'));
    const cached = await cachedPruneManifests(storage, 'files');
    expect(cached.manifests.size).toBe(2);
    expect(cached.catalog).toEqual(await catalogFacts(storage, 'files'));
    expect(cached.catalog).toMatchObject({ count: 2, updatedAt: '2026-12-03T00:00:00.000Z' });

    // The summary is written first: one newer than the catalog (its write failed) says nothing of it.
    const newer = await encodeSummary('files', new Date('2026-12-04T00:00:00Z'), manifests.slice(0, 1));
    await storage.put(catalogSummaryKey('files'), newer);
    const stale = await cachedPruneManifests(storage, 'files');
    expect(stale.manifests.size).toBe(1);
    expect(stale.catalog).toBeUndefined();
    // The scan still lists both (the listing decides), reading the manifest the summary lacks.
    const scan = await scanJob(storage, 'files');
    expect(scan.backups.ids).toEqual(['20261201T020000Z-aaaaaa', '20261202T020000Z-bbbbbb']);
    expect(scan.catalog).toBeUndefined();
    expect(scan.backups.names[1]).toEqual(['manifest.json', 'archive.tar.zst', 'index.jsonl.zst']);
    expect(scan.newest).toEqual({ id: '20261202T020000Z-bbbbbb', startedAt: manifests[1]!.startedAt });
  });

  it('refuses to plan from a listing that is not in key order, and stops the listing', async () => {
    const ids = ['20261201T020000Z-aaaaaa', '20261202T020000Z-bbbbbb', '20261203T020000Z-cccccc'];
    const { storage } = await repoOf(ids);
    let stopped = false;
    // A storage breaking list's contract: the first backup's folder again after the others.
    const shuffled = wrapStorage(storage, {
      list: (prefix, opts) =>
        (async function* () {
          try {
            const all = [];
            for await (const o of storage.list(prefix, opts)) all.push(o);
            const first = all.filter((o) => o.key.includes(ids[0]!));
            yield* all.slice(first.length);
            yield* first;
          } finally {
            stopped = true;
          }
        })(),
    });
    await expect(scanJob(shuffled, 'files')).rejects.toThrow(
      /out of key order at files\/20261201T020000Z-aaaaaa\//,
    );
    expect(stopped).toBe(true);
  });
});
