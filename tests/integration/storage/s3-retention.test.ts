/**
 * Storage.extendRetention on S3 Object Lock (moto): what chain locks (jobs/chain-locks.ts) rely
 * on. A lock is extended in the mode it has and never shortened, and the modes keep meaning what
 * S3 says: GOVERNANCE yields to s3:BypassGovernanceRetention (which bo never uses), COMPLIANCE to
 * no one. moto itself would let PutObjectRetention shorten a lock, so "never shorter" is proved
 * on bo's side here, not the server's.
 */
import { DeleteObjectCommand, HeadObjectCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { S3Storage } from '../../../src/config/schema.ts';
import { NotFoundError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { createS3Storage } from '../../../src/storage/s3.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';

const DAY = 86_400_000;
const skip = s3Missing() ?? (inject('s3')?.kind !== 'moto' ? 'Object Lock needs moto' : undefined);

describe.skipIf(skip)('S3 Object Lock: extendRetention', () => {
  let b: TestBucket;
  beforeAll(async () => {
    b = await newBucket({ objectLock: true, prefix: 'bo/' });
  });
  afterAll(async () => {
    await b?.destroy();
  });
  const storage = (objectLock?: S3Storage['objectLock']) =>
    createS3Storage('test', { ...b.parsed, ...(objectLock ? { objectLock } : {}) }, { log: silentLogger() });
  const head = (key: string) => b.client.send(new HeadObjectCommand({ Bucket: b.name, Key: `bo/${key}` }));
  /** Deletes the current version as a deleter with the bypass permission would. */
  const bypassDelete = async (key: string) => {
    const { VersionId } = await head(key);
    return await b.client.send(
      new DeleteObjectCommand({
        Bucket: b.name,
        Key: `bo/${key}`,
        VersionId,
        BypassGovernanceRetention: true,
      }),
    );
  };

  it.each(['GOVERNANCE', 'COMPLIANCE'] as const)(
    'extends a %s lock in its own mode and never shortens it',
    async (mode) => {
      const s = storage({ mode, days: 1 });
      const key = `ext-${mode}/archive`;
      await s.put(key, Buffer.from('parent data'));
      const first = (await s.retention(key))!;
      expect(first.mode).toBe(mode);

      const later = new Date(Date.now() + 3 * DAY + 1234);
      const extended = await s.extendRetention(key, later);
      expect(extended?.mode).toBe(mode);
      expect(extended!.until.getTime()).toBeGreaterThanOrEqual(later.getTime());
      expect(extended!.until.getTime()).toBeLessThan(later.getTime() + 1000); // rounded up to the second
      expect(await s.retention(key)).toEqual(extended);

      // Asking for less (the parent of an older backup, a clock behind) changes nothing.
      expect(await s.extendRetention(key, new Date(Date.now() + DAY))).toEqual(extended);
      expect(await s.extendRetention(key, new Date(Date.now() - DAY))).toEqual(extended);
      expect((await head(key)).ObjectLockRetainUntilDate).toEqual(extended!.until);
    },
  );

  it('locks an unlocked object in the configured mode, and leaves it alone without one', async () => {
    await storage().put('unlocked/a', Buffer.from('a'));
    await storage().put('unlocked/b', Buffer.from('b'));
    const until = new Date(Date.now() + 2 * DAY);
    expect(await storage().extendRetention('unlocked/a', until)).toBeUndefined();
    expect((await head('unlocked/a')).ObjectLockMode).toBeUndefined();
    const r = await storage({ mode: 'COMPLIANCE', days: 1 }).extendRetention('unlocked/b', until);
    expect(r?.mode).toBe('COMPLIANCE');
    expect(r!.until.getTime()).toBeGreaterThanOrEqual(until.getTime());
  });

  it('extends an expired lock again, in its mode', async () => {
    const s = storage({ mode: 'GOVERNANCE', days: 1 });
    await s.put('expired/k', Buffer.from('x'));
    const { VersionId } = await head('expired/k');
    await b.client.send(
      new PutObjectRetentionCommand({
        Bucket: b.name,
        Key: 'bo/expired/k',
        VersionId,
        BypassGovernanceRetention: true,
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() - 60_000) },
      }),
    );
    const until = new Date(Date.now() + DAY);
    const r = await storage({ mode: 'COMPLIANCE', days: 1 }).extendRetention('expired/k', until);
    expect(r?.mode).toBe('GOVERNANCE'); // its own mode, not the configured one
    expect(r!.until.getTime()).toBeGreaterThanOrEqual(until.getTime());
  });

  it('rejects a missing key with NotFoundError', async () => {
    await expect(
      storage({ mode: 'GOVERNANCE', days: 1 }).extendRetention('nope/k', new Date(Date.now() + DAY)),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('relies on the modes: an extended GOVERNANCE lock yields to a bypass, COMPLIANCE does not', async () => {
    const until = new Date(Date.now() + 2 * DAY);
    for (const mode of ['GOVERNANCE', 'COMPLIANCE'] as const) {
      const s = storage({ mode, days: 1 });
      await s.put(`modes/${mode}`, Buffer.from(mode));
      await s.extendRetention(`modes/${mode}`, until);
      await expect(s.delete(`modes/${mode}`)).rejects.toThrow(`is locked (${mode}) until`);
    }
    await expect(bypassDelete('modes/COMPLIANCE')).rejects.toThrow(/access ?denied/i);
    expect((await head('modes/COMPLIANCE')).ObjectLockMode).toBe('COMPLIANCE');
    await bypassDelete('modes/GOVERNANCE'); // what s3:BypassGovernanceRetention allows; bo never sends it
    await expect(head('modes/GOVERNANCE')).rejects.toThrow();
  });
});
