import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type BackupRef, listBackups } from '../../../src/catalog/backups.ts';
import { ancestorsOf } from '../../../src/catalog/chains.ts';
import { CHAIN_LOCK_MARGIN_MS, chainLockUntil, extendChainLocks } from '../../../src/jobs/chain-locks.ts';
import { objectKey } from '../../../src/storage/layout.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { allKeys, type BackupEnv, backupEnv, DAY } from './backup-env.ts';
import { backupChains } from './chain-env.ts';

const skipLock = s3Missing() ?? (inject('s3')?.kind !== 'moto' ? 'Object Lock needs moto' : undefined);
const signal = () => new AbortController().signal;

async function chainOf3(env: BackupEnv): Promise<{ ids: string[]; refs: BackupRef[] }> {
  const [ids] = await backupChains(env, 'files', [3]);
  const { backups } = await listBackups(env.storage, { job: 'files' });
  return { ids: ids!, refs: backups };
}

describe('chainLockUntil', () => {
  it('is the storage lock plus a margin, and nothing without Object Lock', () => {
    const now = new Date('2026-12-07T03:00:00Z');
    expect(chainLockUntil(undefined, now)).toBeUndefined();
    expect(chainLockUntil({ days: 30 }, now)?.getTime()).toBe(
      now.getTime() + 30 * DAY + CHAIN_LOCK_MARGIN_MS,
    );
  });
});

describe.each(['GOVERNANCE', 'COMPLIANCE'] as const)(
  'extendChainLocks on S3 Object Lock (%s, moto)',
  (mode) => {
    let env: BackupEnv;
    beforeAll(async () => {
      if (skipLock) return;
      env = await backupEnv('s3', { jobs: { files: {} }, objectLock: { mode, days: 1 } });
    });
    afterAll(async () => {
      await env?.cleanup();
    });

    it.skipIf(skipLock)(
      'locks every object of every ancestor at least as long as the backup being committed',
      async () => {
        const { ids, refs } = await chainOf3(env);
        const newest = refs.find((r) => r.id === ids[2])!;
        const ancestors = ancestorsOf(newest, refs);
        expect(ancestors.map((a) => a.id)).toEqual([ids[1], ids[0]]);
        const until = chainLockUntil({ days: 1 }, new Date())!;
        expect(await extendChainLocks(env.storage, ancestors, until, signal())).toEqual({ objects: 6 });

        for (const id of [ids[0]!, ids[1]!]) {
          const keys = (await allKeys(env.storage, `files/${id}/`)).filter((k) => !k.includes('.bo-tmp'));
          expect(keys).toHaveLength(3); // manifest, archive, index
          for (const key of keys) {
            const r = await env.storage.retention(key);
            expect(r?.mode).toBe(mode);
            expect(r!.until.getTime()).toBeGreaterThanOrEqual(until.getTime());
          }
        }
        // The newest backup's own objects are not touched, and a manifest written now (the commit
        // after the call) is locked no longer than its ancestors now are.
        expect((await env.storage.retention(`files/${ids[2]}/manifest.json`))!.until.getTime()).toBeLessThan(
          until.getTime(),
        );
        await env.storage.put(`files/${ids[2]}/manifest.json`, Buffer.from(JSON.stringify(newest.manifest)));
        const committed = (await env.storage.retention(`files/${ids[2]}/manifest.json`))!;
        expect(committed.until.getTime()).toBeLessThanOrEqual(until.getTime());

        // A second call for a shorter date changes nothing.
        const before = await env.storage.retention(
          objectKey(ancestors[1]!, ancestors[1]!.manifest.archive.key),
        );
        await extendChainLocks(env.storage, ancestors, new Date(Date.now() + 60_000), signal());
        expect(
          await env.storage.retention(objectKey(ancestors[1]!, ancestors[1]!.manifest.archive.key)),
        ).toEqual(before);
      },
    );

    // Under COMPLIANCE nothing can delete the ancestor to break the chain: the case exists only in GOVERNANCE.
    const governanceOnly = mode === 'COMPLIANCE' ? undefined : it.skipIf(skipLock);
    governanceOnly?.(
      'fails, naming the backup, when an ancestor object is gone (a broken chain)',
      async () => {
        const { ids, refs } = await chainOf3(env);
        const parent = refs.find((r) => r.id === ids[1])!;
        const key = `bo/${objectKey(parent, parent.manifest.index.key)}`;
        const { VersionId } = await env.bucket!.client.send(
          new HeadObjectCommand({ Bucket: env.bucket!.name, Key: key }),
        );
        await env.bucket!.client.send(
          new DeleteObjectCommand({
            Bucket: env.bucket!.name,
            Key: key,
            VersionId,
            BypassGovernanceRetention: true,
          }),
        );
        const ancestors = ancestorsOf(refs.find((r) => r.id === ids[2])!, refs);
        await expect(
          extendChainLocks(env.storage, ancestors, chainLockUntil({ days: 1 }, new Date())!, signal()),
        ).rejects.toThrow(
          new RegExp(
            `cannot extend the Object Lock of files/${ids[1]}, an ancestor of this backup: .*index.* is missing, so the chain is broken`,
          ),
        );
      },
    );
  },
);

describe('extendChainLocks on filesystem storage', () => {
  let env: BackupEnv;
  beforeAll(async () => {
    env = await backupEnv('fs', { jobs: { files: {} } });
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it('has no locks to extend, but still finds a missing ancestor object', async () => {
    const { ids, refs } = await chainOf3(env);
    const ancestors = ancestorsOf(refs.find((r) => r.id === ids[2])!, refs);
    const until = new Date(Date.now() + DAY);
    expect(await extendChainLocks(env.storage, ancestors, until, signal())).toEqual({ objects: 6 });
    await env.storage.delete(objectKey(ancestors[1]!, ancestors[1]!.manifest.archive.key));
    await expect(extendChainLocks(env.storage, ancestors, until, signal())).rejects.toThrow(
      new RegExp(
        `cannot extend the Object Lock of files/${ids[0]}, .*archive.* is missing, so the chain is broken`,
      ),
    );
  });
});
