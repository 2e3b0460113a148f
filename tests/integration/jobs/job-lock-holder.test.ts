import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobLockHolder } from '../../../src/jobs/job-lock-holder.ts';
import { silentLogger } from '../../../src/log.ts';
import { createFsStorage } from '../../../src/storage/fs.ts';
import { jobLockScope, lockEpochKey } from '../../../src/storage/layout.ts';
import { DEFAULT_LOCK_SKEW_MS, DEFAULT_LOCK_TTL_MS } from '../../../src/storage/lock.ts';
import type { LockRecord } from '../../../src/storage/lock-record.ts';
import { createS3Storage } from '../../../src/storage/s3.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';

const signal = new AbortController().signal;
const later = (ms: number) => new Date(Date.now() + ms);

function held(job: string, epoch: number, runId: string): Buffer {
  const now = new Date().toISOString();
  const rec: LockRecord = {
    format: 'bo-lock',
    version: 1,
    scope: jobLockScope(job),
    epoch,
    owner: { host: 'elsewhere', pid: 7, runId, purpose: 'backup' },
    acquiredAt: now,
    refreshedAt: now,
    expiresAt: later(600_000).toISOString(),
    ttlMs: 600_000,
    released: false,
  };
  return Buffer.from(JSON.stringify(rec));
}

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(s3Missing())],
])('jobLockHolder on %s', (_label, kind, skip) => {
  let storage: Storage;
  let dir: string | undefined;
  let bucket: TestBucket | undefined;

  beforeAll(async () => {
    if (skip) return;
    if (kind === 'fs') {
      dir = await mkdtemp(join(tmpdir(), 'bo-holder-'));
      storage = createFsStorage('repo', { type: 'filesystem', path: dir }, { log: silentLogger() });
    } else {
      bucket = await newBucket();
      storage = createS3Storage('repo', bucket.parsed, { log: silentLogger() });
    }
  });
  afterAll(async () => {
    await storage?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await bucket?.destroy();
  });

  it.skipIf(skip)('counts an unreadable lock as held for one TTL from its write, then stale', async () => {
    await storage.put(lockEpochKey(jobLockScope('garbled'), 1), Buffer.from('{ not json'));
    expect(await jobLockHolder(storage, 'garbled', new Date(), signal)).toBe('an unreadable lock record');
    const past = later(DEFAULT_LOCK_TTL_MS + DEFAULT_LOCK_SKEW_MS + 60_000);
    expect(await jobLockHolder(storage, 'garbled', past, signal)).toBeUndefined();
  });

  it.skipIf(skip)('looks again when the top epoch goes between listing and reading', async () => {
    const scope = jobLockScope('withdrawn');
    await storage.put(lockEpochKey(scope, 1), held('withdrawn', 1, 'winner'));
    await storage.put(lockEpochKey(scope, 2), held('withdrawn', 2, 'loser'));
    // The loser withdraws its epoch just after the listing saw it.
    const racing: Storage = {
      ...storage,
      get: async (key, opts) => {
        if (key === lockEpochKey(scope, 2)) await storage.delete(key);
        return storage.get(key, opts);
      },
    };
    expect(await jobLockHolder(racing, 'withdrawn', new Date(), signal)).toMatch(/run winner/);
  });

  it.skipIf(skip)('names a live holder; nothing once there is no lock', async () => {
    await storage.put(lockEpochKey(jobLockScope('live'), 3), held('live', 3, 'r3'));
    expect(await jobLockHolder(storage, 'live', new Date(), signal)).toBe(
      'backup on elsewhere (pid 7, run r3)',
    );
    expect(await jobLockHolder(storage, 'none', new Date(), signal)).toBeUndefined();
  });
});
