import { join } from 'node:path';
import {
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { listJobBackups } from '../../../src/catalog/catalog.ts';
import { StorageError } from '../../../src/errors.ts';
import { pruneJobs } from '../../../src/jobs/prune.ts';
import { silentLogger } from '../../../src/log.ts';
import { createServices } from '../../../src/services.ts';
import { catalogKey } from '../../../src/storage/layout.ts';
import type { ObjectInfo } from '../../../src/storage/storage.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { allKeys, type BackupEnv, backupEnv, DAY, wrapStorage } from './backup-env.ts';

const skipS3 = s3Missing();
const opts = (signal = new AbortController().signal) => ({ signal, log: silentLogger() });
const dataKeys = async (env: BackupEnv) => (await allKeys(env.storage)).filter((k) => !k.startsWith('_bo/'));
const envs: BackupEnv[] = [];
afterEach(async () => {
  for (const e of envs.splice(0)) await e.cleanup();
});

async function withBackups(kind: 'fs' | 's3', n: number, extra: Parameters<typeof backupEnv>[1] = {}) {
  const env = await backupEnv(kind, { jobs: { files: { retention: { last: 1 } } }, ...extra });
  envs.push(env);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await env.backup('files', new Date(Date.now() - (n - i) * DAY)));
  return { env, ids };
}

/** What `bo list` shows (the catalog plus recent days), each checked against its manifest. */
async function listedWithoutManifest(env: BackupEnv): Promise<string[]> {
  const listed = await listJobBackups(env.storage, 'files');
  const missing: string[] = [];
  for (const b of listed.backups)
    if (!(await env.storage.stat(`files/${b.id}/manifest.json`))) missing.push(b.id);
  return missing;
}

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(skipS3)],
])('prune crash safety and the shared guard on %s storage', (_label, kind, skip) => {
  it.skipIf(skip)(
    'never leaves the catalog listing a backup whose manifest is gone, even if prune dies midway',
    async () => {
      const { env, ids } = await withBackups(kind, 4);
      const dying = new AbortController();
      let deleted = 0;
      let reached!: () => void;
      const atSecondDelete = new Promise<void>((r) => (reached = r));
      const frozen = env.servicesWith({
        wrap: (s) =>
          wrapStorage(s, {
            async delete(key) {
              if (key.endsWith('/manifest.json') && ++deleted > 1) {
                reached();
                // The process "dies" here: this delete and everything after it never happen.
                await new Promise((_, reject) =>
                  dying.signal.addEventListener('abort', () => reject(dying.signal.reason)),
                );
              }
              await s.delete(key);
            },
          }),
      });
      const pruning = pruneJobs(frozen, ['files'], opts(dying.signal));
      await atSecondDelete;
      // Frozen between two deletes: one manifest is gone, and `bo list` must not show its backup.
      expect(await listedWithoutManifest(env)).toEqual([]);
      dying.abort(new Error('killed'));
      await pruning.catch(() => undefined); // a dead process leaves whatever it reached
      expect(await listedWithoutManifest(env)).toEqual([]);
      expect((await listJobBackups(env.storage, 'files')).backups.map((b) => b.id)).toContain(ids.at(-1));
      // The next prune finishes the job: exactly the newest is left, listed as before.
      const again = (await pruneJobs(env.services, ['files'], opts()))[0]!;
      expect(again.error).toBeUndefined();
      expect((await listJobBackups(env.storage, 'files')).backups.map((b) => b.id)).toEqual([ids.at(-1)]);
    },
  );

  it.skipIf(skip)('fails, deleting nothing, when the catalog cannot be written first', async () => {
    const { env } = await withBackups(kind, 3);
    const before = await dataKeys(env);
    const noCatalog = env.servicesWith({
      wrap: (s) =>
        wrapStorage(s, {
          put: (key, body, o) =>
            key === catalogKey('files')
              ? Promise.reject(new StorageError('503 Slow Down'))
              : s.put(key, body, o),
        }),
    });
    const report = (await pruneJobs(noCatalog, ['files'], opts()))[0]!;
    expect(report.error).toMatch(
      /cannot write the job catalog _bo\/catalog\/files.json.zst before deleting: .*503 Slow Down.*nothing was deleted/,
    );
    expect(report.execution).toBeUndefined();
    expect(await dataKeys(env)).toEqual(before);
  });

  it.skipIf(skip)(
    'guards a fresh machine with the catalog in storage, and says when it has no memory',
    async () => {
      const { env, ids } = await withBackups(kind, 5, { jobs: { files: { retention: { last: 10 } } } });
      // A second machine: same config and bucket, its own (empty) state database.
      const fresh = (
        wrap?: (s: ReturnType<typeof env.services.storage>) => ReturnType<typeof env.services.storage>,
      ) => {
        const config = { ...env.config, stateDir: join(env.work, 'other-machine') };
        const base = createServices({ config, log: silentLogger(), clock: env.clock });
        return wrap ? { ...base, storage: (n: string) => wrap(base.storage(n)) } : base;
      };
      const oldest = ids[0]!;
      const hiding = fresh((s) =>
        wrapStorage(s, {
          async *list(prefix, o) {
            const hidden = (x: ObjectInfo) =>
              x.key.startsWith('files/') && !x.key.startsWith(`files/${oldest}/`);
            for await (const x of s.list(prefix, o)) if (!hidden(x)) yield x;
          },
        }),
      );
      const refused = (await pruneJobs(hiding, ['files'], opts()))[0]!;
      expect(refused.refused?.join('\n')).toMatch(
        /the newest in the job's catalog in storage .* is not listed/,
      );
      expect(refused.refused?.join('\n')).toMatch(
        /the job's catalog in storage .* lists 5: suspiciously few/,
      );
      expect(refused.unguarded).toBeUndefined();

      // Without the catalog, the fresh machine has nothing to compare with, and says so.
      await env.storage.delete(catalogKey('files'));
      const blind = (await pruneJobs(fresh(), ['files'], { ...opts(), dryRun: true }))[0]!;
      expect(blind.refused).toBeUndefined();
      expect(blind.unguarded).toMatch(/the guard has no memory of files/);
    },
  );
});

describe.skipIf(skipS3)('prune frees space in versioned S3 buckets (moto)', () => {
  const versionsUnder = async (env: BackupEnv, id: string) => {
    const r = await env.bucket!.client.send(
      new ListObjectVersionsCommand({ Bucket: env.bucket!.name, Prefix: `bo/files/${id}/` }),
    );
    return [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])].map((v) => v.Key);
  };

  it('deletes the versions, not just hides them, in a versioned bucket without objectLock', async () => {
    const env = await backupEnv('s3', { jobs: { files: { retention: { last: 1 } } } });
    envs.push(env);
    await env.bucket!.client.send(
      new PutBucketVersioningCommand({
        Bucket: env.bucket!.name,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const old = await env.backup('files', new Date(Date.now() - DAY));
    const kept = await env.backup('files');
    expect(await versionsUnder(env, old)).toHaveLength(3);
    const report = (await pruneJobs(env.services, ['files'], opts()))[0]!;
    expect(report.execution).toMatchObject({ backupsDeleted: 1, failures: [] });
    expect(await versionsUnder(env, old)).toEqual([]); // no versions, no delete markers
    expect(await versionsUnder(env, kept)).toHaveLength(3);
  });

  it('deletes a backup once its Object Lock retention has expired', async () => {
    const env = await backupEnv('s3', {
      jobs: { files: { retention: { last: 1 } } },
      objectLock: { mode: 'GOVERNANCE', days: 1 },
    });
    envs.push(env);
    const old = await env.backup('files', new Date(Date.now() - 2 * DAY));
    await env.backup('files');
    const locked = (await pruneJobs(env.services, ['files'], opts()))[0]!;
    expect(locked.plan!.totals).toMatchObject({ deleted: 0, locked: 1 });
    // The retention runs out (shortened here with the governance bypass, as time would).
    for (const key of await allKeys(env.storage, `files/${old}/`)) {
      await env.bucket!.client.send(
        new PutObjectRetentionCommand({
          Bucket: env.bucket!.name,
          Key: `bo/${key}`,
          BypassGovernanceRetention: true,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() - 60_000) },
        }),
      );
    }
    const report = (await pruneJobs(env.services, ['files'], opts()))[0]!;
    expect(report.plan!.totals).toMatchObject({ deleted: 1, locked: 0 });
    expect(report.execution).toMatchObject({ backupsDeleted: 1, failures: [] });
    expect(await versionsUnder(env, old)).toEqual([]);
  });
});
