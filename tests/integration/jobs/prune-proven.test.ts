import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJobBackups } from '../../../src/catalog/catalog.ts';
import { pruneJobs } from '../../../src/jobs/prune.ts';
import { verifyBackups } from '../../../src/jobs/verify-run.ts';
import { silentLogger } from '../../../src/log.ts';
import type { BackupRow } from '../../../src/plan/prune.ts';
import { planRows } from '../../../src/plan/prune-rows.ts';
import { objectKey } from '../../../src/storage/layout.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { type BackupEnv, backupEnv, DAY } from './backup-env.ts';

const skipS3 = s3Missing();
const opts = () => ({ signal: new AbortController().signal, log: silentLogger() });

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(skipS3)],
])('prune with verify evidence on %s storage', (_label, kind, skip) => {
  let env: BackupEnv;
  beforeAll(async () => {
    if (skip) return;
    env = await backupEnv(kind, { jobs: { files: { retention: { last: 1 } } } });
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it.skipIf(skip)('keeps the newest verified backup when the newest one failed verify', async () => {
    const ids: string[] = [];
    for (let i = 3; i >= 1; i--) ids.push(await env.backup('files', new Date(Date.now() - i * DAY)));
    const [oldest, good, newest] = ids as [string, string, string];
    const all = await verifyBackups(env.services, 'files', undefined, opts());
    expect(all.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);

    // The newest archive rots; verify finds it.
    const { backups } = await listJobBackups(env.storage, 'files');
    const key = objectKey({ job: 'files', id: newest }, backups.at(-1)!.manifest.archive.key);
    const data = Buffer.from(await buffer(await env.storage.get(key)));
    const mid = data.length >> 1;
    data[mid] = data[mid]! ^ 0x40;
    await env.storage.put(key, data);
    expect((await verifyBackups(env.services, `files/${newest}`, undefined, opts()))[0]?.status).toBe(
      'failed',
    );

    const report = (await pruneJobs(env.services, ['files'], opts()))[0]!;
    expect(report.error).toBeUndefined();
    const rows = planRows(report.plan!).filter((r): r is BackupRow => r.kind === 'backup');
    expect(rows.map((r) => [r.id, r.action, r.reason])).toEqual([
      [newest, 'keep', 'last #1'],
      [good, 'keep', 'newest verified backup (always kept)'],
      [oldest, 'delete', 'no rule matched'],
    ]);
    expect(report.execution?.deletedIds).toEqual([oldest]);
    expect((await listJobBackups(env.storage, 'files', { full: true })).backups.map((b) => b.id)).toEqual([
      good,
      newest,
    ]);
    expect((await verifyBackups(env.services, `files/${good}`, undefined, opts()))[0]?.status).toBe('ok');
  });
});
