import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { listJobBackups } from '../../../src/catalog/catalog.ts';
import { pruneJobs } from '../../../src/jobs/prune.ts';
import { silentLogger } from '../../../src/log.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { type BackupEnv, backupEnv, DAY } from './backup-env.ts';

// s3rver records no storage class.
const skip = s3Missing() ?? (inject('s3')?.kind !== 'moto' ? 'needs moto' : undefined);

/** Storage class of every object in the bucket, by key with the backup ids replaced by ID1, ID2 … */
async function classes(env: BackupEnv, ids: string[]): Promise<Record<string, string | undefined>> {
  const b = env.bucket!;
  const listed = await b.client.send(new ListObjectsV2Command({ Bucket: b.name }));
  const out: Record<string, string | undefined> = {};
  for (const o of listed.Contents ?? []) {
    let key = o.Key!;
    ids.forEach((id, i) => {
      key = key.replace(id, `ID${i + 1}`);
    });
    out[key] = o.StorageClass;
  }
  return out;
}

describe.skipIf(skip)('storageClass (moto)', () => {
  let env: BackupEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });
  const jobs = {
    files: { retention: { last: 1 }, dumps: [{ type: 'command', name: 'app', command: "echo 'SELECT 1;'" }] },
  };

  it('applies to archives and dumps only: manifests, indexes, the catalog and locks stay STANDARD', async () => {
    env = await backupEnv('s3', { jobs, s3: { storageClass: 'STANDARD_IA' } });
    const id = await env.backup('files');
    expect(await classes(env, [id])).toEqual({
      'bo/_bo/catalog-summary/files.jsonl.zst': 'STANDARD',
      'bo/_bo/catalog/files.json.zst': 'STANDARD',
      'bo/_bo/locks/job/files/000000000001.json': 'STANDARD',
      'bo/files/ID1/archive.tar.zst': 'STANDARD_IA',
      'bo/files/ID1/dump-app.sql.zst': 'STANDARD_IA',
      'bo/files/ID1/index.jsonl.zst': 'STANDARD',
      'bo/files/ID1/manifest.json': 'STANDARD',
    });
  });

  it('with an archive class (GLACIER), backups stay listable, lockable and prunable', async () => {
    env = await backupEnv('s3', { jobs, s3: { storageClass: 'GLACIER' } });
    const first = await env.backup('files', new Date(Date.now() - DAY));
    const second = await env.backup('files'); // reads the first run's lock and the catalog
    const listing = await listJobBackups(env.storage, 'files', { full: true });
    expect(listing.unreadable).toEqual([]);
    expect(listing.backups.map((b) => b.id)).toEqual([first, second]);
    const [report] = await pruneJobs(env.services, ['files'], {
      signal: new AbortController().signal,
      log: silentLogger(),
    });
    expect(report?.error).toBeUndefined();
    expect(report?.execution?.deletedIds).toEqual([first]);
    expect((await listJobBackups(env.storage, 'files')).backups.map((b) => b.id)).toEqual([second]);
  });
});
