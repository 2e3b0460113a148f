import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../../src/catalog/backups.ts';
import {
  catalogedJobs,
  listJobBackups,
  listStorageBackups,
  readCatalog,
  recentPrefixes,
  writeCatalog,
} from '../../../src/catalog/catalog.ts';
import { pruneJobs } from '../../../src/jobs/prune.ts';
import { silentLogger } from '../../../src/log.ts';
import { catalogKey } from '../../../src/storage/layout.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { type BackupEnv, backupEnv, DAY } from '../jobs/backup-env.ts';

const skipS3 = s3Missing();

describe('recentPrefixes', () => {
  it('covers the days from the newest cataloged backup to tomorrow, then months, then the job', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    expect(recentPrefixes('j', '20261121T020000Z-abcdef', now)).toEqual([
      'j/20261121',
      'j/20261122',
      'j/20261123',
    ]);
    const months = recentPrefixes('j', '20260301T020000Z-abcdef', now);
    expect(months[0]).toBe('j/202603');
    expect(months.at(-1)).toBe('j/202611');
    expect(recentPrefixes('j', '20200101T000000Z-abcdef', now)).toEqual(['j/']);
    expect(recentPrefixes('j', '', now)).toEqual(['j/']);
  });
});

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(skipS3)],
])('job catalog on %s storage', (_label, kind, skip) => {
  let env: BackupEnv;
  const ids = (l: { backups: Array<{ id: string }> }) => l.backups.map((b) => b.id);
  beforeAll(async () => {
    if (skip) return;
    env = await backupEnv(kind, { jobs: { files: { retention: { last: 2 } } } });
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it.skipIf(skip)('is kept by backups and prune, and lists what the manifests list', async () => {
    for (let i = 3; i >= 0; i--) await env.backup('files', new Date(Date.now() - i * DAY));
    const full = await listBackups(env.storage, { job: 'files' });
    expect(full.backups).toHaveLength(4);
    expect((await readCatalog(env.storage, 'files'))!.map((m) => m.id)).toEqual(ids(full));
    expect(await listJobBackups(env.storage, 'files')).toEqual(full);
    expect(await catalogedJobs(env.storage)).toEqual(['files']);
    expect(await listStorageBackups(env.storage, { jobs: [] })).toEqual(await listBackups(env.storage));
    expect(await listStorageBackups(env.storage, { jobs: ['files'], full: true })).toEqual(full);

    await pruneJobs(env.services, ['files'], { signal: new AbortController().signal, log: silentLogger() });
    const after = await listBackups(env.storage, { job: 'files' });
    expect(after.backups).toHaveLength(2);
    expect((await readCatalog(env.storage, 'files'))!.map((m) => m.id)).toEqual(ids(after));
    expect(ids(await listJobBackups(env.storage, 'files'))).toEqual(ids(after));
  });

  it.skipIf(skip)(
    'still lists a recent backup the catalog missed (its run died before updating it)',
    async () => {
      const full = await listBackups(env.storage, { job: 'files' });
      await writeCatalog(
        env.storage,
        'files',
        full.backups.slice(0, -1).map((b) => b.manifest),
        new Date(),
      );
      expect(ids(await listJobBackups(env.storage, 'files'))).toEqual(ids(full));
    },
  );

  it.skipIf(skip)(
    'falls back to the manifests without a usable catalog, and --full trusts nothing cached',
    async () => {
      const full = await listBackups(env.storage, { job: 'files' });
      await env.storage.put(catalogKey('files'), Buffer.from('not zstd'));
      expect(await listJobBackups(env.storage, 'files')).toEqual(full);
      await env.storage.delete(catalogKey('files'));
      expect(await listJobBackups(env.storage, 'files')).toEqual(full);
      // A stale catalog naming a deleted backup: the fast path shows it, the full path does not.
      await writeCatalog(
        env.storage,
        'files',
        full.backups.map((b) => b.manifest),
        new Date(),
      );
      const victim = full.backups[0]!;
      await env.storage.delete(`files/${victim.id}/manifest.json`);
      expect(ids(await listJobBackups(env.storage, 'files'))).toContain(victim.id);
      expect(ids(await listJobBackups(env.storage, 'files', { full: true }))).not.toContain(victim.id);
    },
  );
});
