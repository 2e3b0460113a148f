import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, StorageError } from '../../../src/errors.ts';
import { type PruneReport, pruneJobs } from '../../../src/jobs/prune.ts';
import { silentLogger } from '../../../src/log.ts';
import type { BackupRow } from '../../../src/plan/prune.ts';
import { planRows } from '../../../src/plan/prune-rows.ts';
import { catalogKey, catalogSummaryKey, jobLockScope } from '../../../src/storage/layout.ts';
import { acquireLock } from '../../../src/storage/lock.ts';
import type { ObjectInfo } from '../../../src/storage/storage.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { allKeys, type BackupEnv, backupEnv, DAY, setRetention, wrapStorage } from './backup-env.ts';

const skipS3 = s3Missing();
const opts = () => ({ signal: new AbortController().signal, log: silentLogger() });
const backupRows = (r: PruneReport) => planRows(r.plan!).filter((x): x is BackupRow => x.kind === 'backup');
const isLock = (k: string) => k.startsWith('_bo/');

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(skipS3)],
])('prune on %s storage', (_label, kind, skip) => {
  let env: BackupEnv;
  let ids: string[];
  beforeAll(async () => {
    if (skip) return;
    env = await backupEnv(kind, { jobs: { files: { retention: { last: 2 } } } });
    const base = Date.now() - 5 * DAY;
    ids = [];
    for (let i = 0; i < 5; i++) ids.push(await env.backup('files', new Date(base + i * DAY)));
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it.skipIf(skip)(
    'plans from the job catalog without reading the manifests it holds; the listing decides what exists',
    async () => {
      const got: string[] = [];
      const counting = env.servicesWith({
        wrap: (s) =>
          wrapStorage(s, {
            get: (key, o) => {
              got.push(key);
              return s.get(key, o);
            },
          }),
      });
      const dry = (await pruneJobs(counting, ['files'], { ...opts(), dryRun: true }))[0]!;
      expect(backupRows(dry).map((r) => r.id)).toEqual([...ids].reverse());
      expect(got.filter((k) => k.endsWith('/manifest.json'))).toEqual([]);
      expect(got).toContain(catalogKey('files'));
      // A backup the catalog lists but the listing does not (deleted by hand) is not planned.
      const hiding = env.servicesWith({
        wrap: (s) =>
          wrapStorage(s, {
            async *list(prefix, o) {
              for await (const x of s.list(prefix, o)) if (!x.key.includes(ids[0]!)) yield x;
            },
          }),
      });
      const without = (await pruneJobs(hiding, ['files'], { ...opts(), dryRun: true, force: true }))[0]!;
      expect(backupRows(without).map((r) => r.id)).toEqual(ids.slice(1).reverse());
    },
  );

  it.skipIf(skip)(
    'plans with reasons, deletes exactly the plan and the old garbage, keeps young garbage',
    async () => {
      // Garbage: a failed run's leftovers (an object without a manifest) and an unfinished upload.
      const orphanKey = 'files/20200101T000000Z-dead00/archive.tar.zst';
      await env.storage.put(orphanKey, Buffer.from('half a backup'));
      await makeIncompleteUpload(env, 'files/20200101T000000Z-dead01/archive.tar.zst');

      const dry = (await pruneJobs(env.services, ['files'], { ...opts(), dryRun: true }))[0]!;
      expect(dry.error).toBeUndefined();
      expect(backupRows(dry).map((r) => [r.id, r.action, r.reason])).toEqual([
        [ids[4], 'keep', 'last #1'],
        [ids[3], 'keep', 'last #2'],
        [ids[2], 'delete', 'no rule matched'],
        [ids[1], 'delete', 'no rule matched'],
        [ids[0], 'delete', 'no rule matched'],
      ]);
      // Garbage is younger than 24 h by the real clock: kept, with the reason.
      const garbage = planRows(dry.plan!).filter((r) => r.kind !== 'backup');
      // (moto reports every multipart upload as initiated on 2010-11-10, so there it is "old".)
      expect(garbage.map((r) => [r.kind, r.action])).toEqual([
        ['orphan', 'keep'],
        ['upload', env.bucket?.kind === 'moto' ? 'delete' : 'keep'],
      ]);
      expect(garbage[0]!.reason).toMatch(/younger than 1d/);

      // Two days later the garbage is old enough.
      const before = await allKeys(env.storage);
      env.clock.offset = 2 * DAY;
      try {
        const plan = (await pruneJobs(env.services, ['files'], { ...opts(), dryRun: true }))[0]!.plan!;
        const doomed = planRows(plan).flatMap((r) =>
          r.action !== 'delete' ? [] : r.kind === 'backup' ? r.keys : r.kind === 'orphan' ? [r.key] : [],
        );
        const report = (await pruneJobs(env.services, ['files'], opts()))[0]!;
        expect(report.refused).toBeUndefined();
        expect(report.execution).toMatchObject({ backupsDeleted: 3, garbageRemoved: 2, failures: [] });
        const after = await allKeys(env.storage);
        expect(after.filter((k) => !isLock(k))).toEqual(
          before.filter((k) => !isLock(k) && !doomed.includes(k)),
        );
        expect(after.some((k) => k.includes(ids[3]!)) && after.some((k) => k.includes(ids[4]!))).toBe(true);
        expect(await incompleteKeys(env)).toEqual([]);

        // A second prune finds nothing to do, and its guard accepts the listing.
        const again = (await pruneJobs(env.services, ['files'], opts()))[0]!;
        expect(again.refused).toBeUndefined();
        expect(again.plan!.totals).toMatchObject({ kept: 2, deleted: 0, garbage: 0 });
      } finally {
        env.clock.offset = 0;
      }
    },
  );

  it.skipIf(skip)('refuses to prune when the listing fails midway, and deletes nothing', async () => {
    const before = await dataKeys(env);
    const failing = env.servicesWith({
      wrap: (s) =>
        wrapStorage(s, {
          async *list(prefix, o) {
            let n = 0;
            for await (const x of s.list(prefix, o)) {
              if (!prefix.startsWith('_bo/') && ++n > 2)
                throw new StorageError('connection reset while listing');
              yield x;
            }
          },
        }),
    });
    const report = (await pruneJobs(failing, ['files'], opts()))[0]!;
    expect(report.error).toMatch(/connection reset while listing/);
    expect(report.execution).toBeUndefined();
    expect(await dataKeys(env)).toEqual(before);
  });

  it.skipIf(skip)(
    'refuses when the listing looks suspiciously small compared with the last prune',
    async () => {
      // Make sure there are enough backups for the count rule, then prune once to record them.
      setRetention(env, 'files', { last: 10 });
      try {
        for (let i = 0; i < 3; i++) ids.push(await env.backup('files'));
        expect((await pruneJobs(env.services, ['files'], opts()))[0]!.refused).toBeUndefined();
        const before = await dataKeys(env);
        // A listing that silently drops all but the oldest backup (a broken proxy, a lagging mirror …).
        const oldest = before.find((k) => k.startsWith('files/'))!.split('/')[1]!;
        const hidden = (o: ObjectInfo) => o.key.startsWith('files/') && !o.key.startsWith(`files/${oldest}/`);
        const hiding = env.servicesWith({
          wrap: (s) =>
            wrapStorage(s, {
              async *list(prefix, o) {
                for await (const x of s.list(prefix, o)) if (!hidden(x)) yield x;
              },
            }),
        });
        const report = (await pruneJobs(hiding, ['files'], opts()))[0]!;
        expect(report.refused?.join('\n')).toMatch(/is not listed and nothing newer is/);
        expect(report.refused?.join('\n')).toMatch(/suspiciously few/);
        expect(await dataKeys(env)).toEqual(before);
        // An unreadable manifest also stops it: one the job catalog lacks (without a catalog or its
        // summary, prune reads every manifest; with one, only those it lacks: manifests never change).
        const unreadable = env.servicesWith({
          wrap: (s) =>
            wrapStorage(s, {
              get: (key, o) =>
                key.endsWith(`${ids.at(-1)}/manifest.json`)
                  ? Promise.reject(new StorageError('503 Slow Down'))
                  : key === catalogKey('files') || key === catalogSummaryKey('files')
                    ? Promise.reject(new NotFoundError(`${key} not found`))
                    : s.get(key, o),
            }),
        });
        const r2 = (await pruneJobs(unreadable, ['files'], opts()))[0]!;
        expect(r2.refused?.[0]).toMatch(/could not be read.*503 Slow Down/);
        expect(await dataKeys(env)).toEqual(before);
      } finally {
        setRetention(env, 'files', { last: 2 });
      }
    },
  );

  it.skipIf(skip)(
    'waits for no one: a job locked by a running backup is reported, the lock owner named',
    async () => {
      const lock = await acquireLock(
        { storage: env.storage, clock: env.clock, log: silentLogger() },
        jobLockScope('files'),
        {
          purpose: 'backup',
          runId: 'run-42',
        },
      );
      try {
        const report = (await pruneJobs(env.services, ['files'], opts()))[0]!;
        expect(report.error).toMatch(/locked by backup on .* run run-42/);
      } finally {
        await lock.release();
      }
      expect((await pruneJobs(env.services, ['files'], opts()))[0]!.error).toBeUndefined();
    },
  );

  it.skipIf(skip)('never deletes the newest backup, even when no rule keeps it', async () => {
    setRetention(env, 'files', { within: DAY });
    env.clock.offset = 30 * DAY;
    try {
      const report = (await pruneJobs(env.services, ['files'], opts()))[0]!;
      const rows = backupRows(report);
      expect(rows[0]).toMatchObject({ action: 'keep', reason: 'newest successful backup (always kept)' });
      expect(rows.slice(1).every((r) => r.action === 'delete')).toBe(true);
      expect(report.execution?.backupsDeleted).toBe(rows.length - 1);
      const left = (await allKeys(env.storage)).filter((k) => k.endsWith('manifest.json'));
      expect(left).toEqual([`files/${rows[0]!.id}/manifest.json`]);
    } finally {
      env.clock.offset = 0;
    }
  });
});

describe.skipIf(skipS3)('prune with S3 Object Lock (moto)', () => {
  let env: BackupEnv;
  beforeAll(async () => {
    env = await backupEnv('s3', {
      jobs: { locked: { retention: { last: 1 } } },
      objectLock: { mode: 'GOVERNANCE', days: 1 },
    });
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it('skips backups under retention and reports them as locked until …', async () => {
    const a = await env.backup('locked', new Date(Date.now() - 2 * DAY));
    const b = await env.backup('locked', new Date(Date.now() - DAY));
    const c = await env.backup('locked');
    const before = await allKeys(env.storage);
    const report = (await pruneJobs(env.services, ['locked'], opts()))[0]!;
    expect(report.error).toBeUndefined();
    const rows = backupRows(report);
    expect(rows.map((r) => [r.id, r.action])).toEqual([
      [c, 'keep'],
      [b, 'locked'],
      [a, 'locked'],
    ]);
    expect(rows[1]!.reason).toMatch(/^no rule matched; locked until \d{4}-\d\d-\d\dT/);
    expect(rows[1]!.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
    expect(report.plan!.totals).toMatchObject({ kept: 1, deleted: 0, locked: 2 });
    expect(report.execution).toMatchObject({ backupsDeleted: 0, failures: [] });
    expect((await allKeys(env.storage)).filter((k) => !isLock(k))).toEqual(before.filter((k) => !isLock(k)));
  });
});

async function makeIncompleteUpload(env: BackupEnv, key: string): Promise<void> {
  if (env.kind === 's3') {
    await env.bucket!.client.send(
      new CreateMultipartUploadCommand({ Bucket: env.bucket!.name, Key: `bo/${key}` }),
    );
    return;
  }
  const dir = join(env.work, 'repo', key.slice(0, key.lastIndexOf('/')));
  await import('node:fs/promises').then((f) => f.mkdir(dir, { recursive: true }));
  await writeFile(join(dir, `.bo-tmp-0123456789ab-${key.slice(key.lastIndexOf('/') + 1)}`), 'partial');
}

/** Every key but the lock objects (which each prune touches). */
async function dataKeys(env: BackupEnv): Promise<string[]> {
  return (await allKeys(env.storage)).filter((k) => !isLock(k));
}

async function incompleteKeys(env: BackupEnv): Promise<string[]> {
  const out: string[] = [];
  for await (const u of env.storage.listIncomplete('')) out.push(u.key);
  return out;
}
