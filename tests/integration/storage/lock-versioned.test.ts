/**
 * Locks in a versioned bucket, where every heartbeat of an epoch leaves a version: removing an
 * old epoch means deleting each of them, which must not cost the new holder its lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectVersionsCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { silentLogger } from '../../../src/log.ts';
import { lockEpochKey } from '../../../src/storage/layout.ts';
import { acquireLock } from '../../../src/storage/lock.ts';
import { LockBusyError, type LockRecord } from '../../../src/storage/lock-record.ts';
import { createS3Storage } from '../../../src/storage/s3.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';

const skip = s3Missing();

describe.skipIf(skip)('storage lock in a versioned S3 bucket (moto)', () => {
  let bucket: TestBucket;
  let storage: Storage;
  const log = silentLogger();

  beforeAll(async () => {
    bucket = await newBucket({ prefix: 'bo/' });
    await bucket.client.send(
      new PutBucketVersioningCommand({ Bucket: bucket.name, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    storage = createS3Storage('repo', bucket.parsed, { log });
  });
  afterAll(async () => {
    await storage?.close();
    await bucket?.destroy();
  });

  const versions = async (key: string) => {
    const r = await bucket.client.send(
      new ListObjectVersionsCommand({ Bucket: bucket.name, Prefix: `bo/${key}` }),
    );
    return [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])];
  };

  it('heartbeats while it purges the old epochs, then leaves no version of them', async () => {
    const s = 'job/long';
    const now = new Date().toISOString();
    const old: LockRecord = {
      format: 'bo-lock',
      version: 1,
      scope: s,
      epoch: 1,
      owner: { host: 'elsewhere', pid: 1, runId: 'long', purpose: 'backup' },
      acquiredAt: now,
      refreshedAt: now,
      expiresAt: now,
      ttlMs: 60_000,
      released: false,
    };
    // A long run's epoch: one version per heartbeat, the last one marking it released.
    for (let i = 0; i < 20; i++) await storage.put(lockEpochKey(s, 1), Buffer.from(JSON.stringify(old)));
    await storage.put(lockEpochKey(s, 1), Buffer.from(JSON.stringify({ ...old, released: true })));
    expect(await versions(lockEpochKey(s, 1))).toHaveLength(21);

    // Purging takes longer than the new lease, as ~1,200 versions on a real bucket would.
    const slow: Storage = { ...storage, delete: (k) => sleep(1500).then(() => storage.delete(k)) };
    const acquiring = acquireLock({ storage: slow, clock: systemClock, log }, s, {
      purpose: 'backup',
      ttlMs: 1000,
      heartbeatMs: 100,
    });
    await sleep(1300); // past the new epoch's first expiry: only its heartbeat keeps it
    await expect(
      acquireLock({ storage, clock: systemClock, log }, s, { purpose: 'prune', skewMs: 0 }),
    ).rejects.toBeInstanceOf(LockBusyError);
    const lock = await acquiring;
    expect(lock.epoch).toBe(2);
    expect(lock.signal.aborted).toBe(false);
    expect(await versions(lockEpochKey(s, 1))).toEqual([]);

    // Its own heartbeats left versions too; the next holder removes every one.
    await lock.release();
    expect((await versions(lockEpochKey(s, 2))).length).toBeGreaterThan(5);
    const next = await acquireLock({ storage, clock: systemClock, log }, s, { purpose: 'prune' });
    expect(await versions(lockEpochKey(s, 2))).toEqual([]);
    await next.release();
  });
});
