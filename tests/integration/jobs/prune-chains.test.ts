import { HeadObjectCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { listBackups } from '../../../src/catalog/backups.ts';
import { chainOf } from '../../../src/catalog/chains.ts';
import { StorageError } from '../../../src/errors.ts';
import { type PruneReport, pruneJobs } from '../../../src/jobs/prune.ts';
import { silentLogger } from '../../../src/log.ts';
import type { BackupRow } from '../../../src/plan/prune.ts';
import { planRows } from '../../../src/plan/prune-rows.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { allKeys, type BackupEnv, backupEnv, wrapStorage } from './backup-env.ts';
import { backupChains, deleteBackupByHand } from './chain-env.ts';

const skipS3 = s3Missing();
const opts = () => ({ signal: new AbortController().signal, log: silentLogger() });
const rowsOf = (r: PruneReport) =>
  planRows(r.plan!)
    .filter((x): x is BackupRow => x.kind === 'backup')
    .map((x) => `${x.id} ${x.action} ${x.reason}`);
const envs: BackupEnv[] = [];
afterEach(async () => {
  for (const e of envs.splice(0)) await e.cleanup();
});
async function env(kind: 'fs' | 's3', extra: Parameters<typeof backupEnv>[1] = {}): Promise<BackupEnv> {
  const e = await backupEnv(kind, { jobs: { files: { retention: { last: 1 } } }, ...extra });
  envs.push(e);
  return e;
}

/** Every listed backup's chain, as a restore would follow it: the ids of those that are broken. */
async function brokenListed(e: BackupEnv): Promise<string[]> {
  const { backups } = await listBackups(e.storage, { job: 'files' });
  return backups.filter((b) => !chainOf(b, backups).ok).map((b) => b.id);
}

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(skipS3)],
])('prune of incremental chains on %s storage', (_label, kind, skip) => {
  it.skipIf(skip)('a prune that would orphan a chain keeps the whole chain of what it keeps', async () => {
    const e = await env(kind);
    const [old, current] = (await backupChains(e, 'files', [3, 3])) as [string[], string[]];
    const dry = (await pruneJobs(e.services, ['files'], { ...opts(), dryRun: true }))[0]!;
    expect(rowsOf(dry)).toEqual([
      `${current[2]} keep last #1`,
      `${current[1]} keep parent of ${current[2]}`,
      `${current[0]} keep base of ${current[2]}`,
      `${old[2]} delete no rule matched`,
      `${old[1]} delete no rule matched`,
      `${old[0]} delete no rule matched`,
    ]);
    const report = (await pruneJobs(e.services, ['files'], opts()))[0]!;
    expect(report.execution).toMatchObject({ backupsDeleted: 3, failures: [] });
    const { backups } = await listBackups(e.storage, { job: 'files' });
    expect(backups.map((b) => b.id)).toEqual(current);
    expect(await brokenListed(e)).toEqual([]);
    // Nothing of the old chain is left, not even an orphan.
    expect((await allKeys(e.storage)).filter((k) => old.some((id) => k.includes(id)))).toEqual([]);
  });

  it.skipIf(skip)(
    'a missing middle incremental: the plan says which backups are unrestorable and keeps the newest good one',
    async () => {
      const e = await env(kind);
      const [ids] = (await backupChains(e, 'files', [4])) as [string[]];
      await deleteBackupByHand(e.storage, 'files', ids[1]!);
      const report = (await pruneJobs(e.services, ['files'], opts()))[0]!;
      expect(report.refused).toBeUndefined();
      expect(rowsOf(report)).toEqual([
        `${ids[3]} keep last #1; unrestorable: ${ids[1]}, parent of its ancestor ${ids[2]}, is missing`,
        `${ids[2]} delete no rule matched; unrestorable: its parent ${ids[1]} is missing`,
        `${ids[0]} keep newest successful backup (always kept)`,
      ]);
      expect(report.plan!.totals).toMatchObject({ kept: 2, deleted: 1, unrestorable: 2 });
      expect(report.execution).toMatchObject({ deletedIds: [ids[2]], failures: [] });
      expect((await listBackups(e.storage, { job: 'files' })).backups.map((b) => b.id)).toEqual([
        ids[0],
        ids[3],
      ]);
    },
  );

  it.skipIf(skip)(
    'deletes a chain newest first, and never an ancestor of an incremental it failed to delete',
    async () => {
      const e = await env(kind);
      const [old] = (await backupChains(e, 'files', [4, 1])) as [string[]];
      const order: string[] = [];
      const flaky = e.servicesWith({
        wrap: (s) =>
          wrapStorage(s, {
            async delete(key) {
              if (!key.endsWith('/manifest.json')) return await s.delete(key);
              order.push(key.split('/')[1]!);
              if (key.includes(old[2]!)) throw new StorageError('503 Slow Down');
              await s.delete(key);
            },
          }),
      });
      const report = (await pruneJobs(flaky, ['files'], opts()))[0]!;
      // old[3] first (nothing is built on it), then old[2], which fails: old[1] and old[0] stay.
      expect(order).toEqual([old[3], old[2]]);
      expect(report.execution!.deletedIds).toEqual([old[3]]);
      expect(report.execution!.failures.map((f) => [f.what, f.error])).toEqual([
        [`backup files/${old[2]}`, expect.stringMatching(/503 Slow Down/)],
        [
          `backup files/${old[1]}`,
          expect.stringMatching(`not deleted: backup ${old[2]}, built on it, could not be deleted`),
        ],
        [`backup files/${old[0]}`, expect.stringMatching(`not deleted: backup ${old[2]}, built on it`)],
      ]);
      expect(await brokenListed(e)).toEqual([]);
      // The next prune finishes it, still newest first.
      order.length = 0;
      const again = (await pruneJobs(e.services, ['files'], opts()))[0]!;
      expect(again.execution).toMatchObject({ backupsDeleted: 3, failures: [] });
      expect(await brokenListed(e)).toEqual([]);
    },
  );
});

describe.skipIf(skipS3 || inject('s3')?.kind !== 'moto')(
  'prune of chains under S3 Object Lock (moto)',
  () => {
    it('keeps the chain of a backup the policy drops but its lock keeps, although the chain is unlocked', async () => {
      const e = await env('s3', { objectLock: { mode: 'GOVERNANCE', days: 1 } });
      const [old, current] = (await backupChains(e, 'files', [3, 1])) as [string[], string[]];
      // The old chain's ancestors were locked before chain locks existed, and their locks ran out.
      for await (const o of e.storage.list('files/')) {
        if (!o.key.includes(old[0]!) && !o.key.includes(old[1]!)) continue;
        const Key = `bo/${o.key}`;
        const client = e.bucket!.client;
        const { VersionId } = await client.send(new HeadObjectCommand({ Bucket: e.bucket!.name, Key }));
        await client.send(
          new PutObjectRetentionCommand({
            Bucket: e.bucket!.name,
            Key,
            VersionId,
            BypassGovernanceRetention: true,
            Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() - 60_000) },
          }),
        );
      }
      const report = (await pruneJobs(e.services, ['files'], opts()))[0]!;
      expect(report.error).toBeUndefined();
      expect(rowsOf(report)).toEqual([
        `${current[0]} keep last #1`,
        expect.stringMatching(new RegExp(`^${old[2]} locked no rule matched; locked until `)),
        `${old[1]} keep parent of ${old[2]}`,
        `${old[0]} keep base of ${old[2]}`,
      ]);
      expect(report.execution).toMatchObject({ backupsDeleted: 0, failures: [] });
      expect(await brokenListed(e)).toEqual([]);
    });
  },
);
