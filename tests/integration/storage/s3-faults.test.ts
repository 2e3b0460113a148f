/**
 * What S3 puts do when the server's answers do not match what was sent. A proxy in front of the
 * real server corrupts ETags and sizes; every failure must leave no object and no upload behind.
 */
import { randomBytes } from 'node:crypto';
import {
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { IntegrityError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { growingPartSize } from '../../../src/storage/parts.ts';
import { createS3Storage } from '../../../src/storage/s3.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { readAll, streamOf } from './contract.ts';
import { type Fault, type SeenRequest, startFaultProxy } from './fault-proxy.ts';

const MiB = 1024 * 1024;
const BAD_MD5 = '"0123456789abcdef0123456789abcdef"';
const skip = s3Missing();

describe.skipIf(skip)('S3 put integrity checks', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setup(fault: (req: SeenRequest) => Fault | undefined, versioned = false) {
    const b = await newBucket();
    if (versioned) {
      await b.client.send(
        new PutBucketVersioningCommand({ Bucket: b.name, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    }
    const proxy = await startFaultProxy(b.endpoint, fault);
    const storage = createS3Storage(
      'faulty',
      { ...b.parsed, endpoint: proxy.endpoint },
      { log: silentLogger() },
      { partSize: growingPartSize({ first: 5 * MiB }), retryDelayMs: 1 },
    );
    cleanups.push(async () => {
      await storage.close();
      await proxy.close();
      await b.destroy();
    });
    return { b, proxy, storage };
  }

  async function expectEmpty(b: TestBucket) {
    const objects = await b.client.send(new ListObjectsV2Command({ Bucket: b.name }));
    expect(objects.Contents ?? []).toEqual([]);
    const versions = await b.client.send(new ListObjectVersionsCommand({ Bucket: b.name }));
    expect([...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])]).toEqual([]);
    if (b.kind === 'moto') {
      const uploads = await b.client.send(new ListMultipartUploadsCommand({ Bucket: b.name }));
      expect(uploads.Uploads ?? []).toEqual([]);
    }
  }

  const isPart = (r: SeenRequest, n: number) => r.method === 'PUT' && r.query.get('partNumber') === String(n);

  it('retries a part whose ETag is not its MD5, then gives up and aborts the upload', async () => {
    const { b, proxy, storage } = await setup((r) =>
      isPart(r, 2) ? { headers: { etag: BAD_MD5 } } : undefined,
    );
    const err = await storage.put('k', streamOf(randomBytes(12 * MiB))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(
      /UploadPart 2 .*ETag 0123456789abcdef0123456789abcdef is not the part's MD5/,
    );
    expect(proxy.seen.filter((r) => isPart(r, 2))).toHaveLength(3);
    await expectEmpty(b);
  });

  it('recovers when a retried part comes back right', async () => {
    let corrupted = 0;
    const { proxy, storage } = await setup((r) =>
      isPart(r, 2) && corrupted++ === 0 ? { headers: { etag: BAD_MD5 } } : undefined,
    );
    const data = randomBytes(12 * MiB);
    await storage.put('k', streamOf(data));
    expect(proxy.seen.filter((r) => isPart(r, 2))).toHaveLength(2);
    expect((await readAll(await storage.get('k'))).equals(data)).toBe(true);
  });

  it('rejects a single PutObject whose ETag is wrong and removes the object', async () => {
    const { b, storage } = await setup((r) =>
      r.method === 'PUT' && !r.query.has('partNumber') ? { headers: { etag: BAD_MD5 } } : undefined,
    );
    await expect(storage.put('k', Buffer.from('small'))).rejects.toBeInstanceOf(IntegrityError);
    await expectEmpty(b);
  });

  it('rejects when the stored size differs from the bytes sent and removes the object', async () => {
    const { b, storage } = await setup((r) =>
      r.method === 'HEAD' ? { headers: { 'content-length': '7' } } : undefined,
    );
    const err = await storage.put('k', streamOf(randomBytes(6 * MiB))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/the server stored 7 bytes but 6291456 were sent/);
    await expectEmpty(b);
  });

  it.skipIf(inject('s3')?.kind !== 'moto')(
    'rejects a multipart ETag that does not match the parts and removes the object',
    async () => {
      const { b, storage } = await setup((r) =>
        r.method === 'POST' && r.query.has('uploadId')
          ? {
              body: (xml) =>
                xml.replace(/<ETag>(&quot;|")?[0-9a-f]{32}/, '<ETag>$10123456789abcdef0123456789abcdef'),
            }
          : undefined,
      );
      const err = await storage.put('k', streamOf(randomBytes(11 * MiB))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as Error).message).toMatch(
        /ETag 0123456789abcdef0123456789abcdef-3 does not match the parts sent/,
      );
      await expectEmpty(b);
    },
  );

  describe.skipIf(inject('s3')?.kind !== 'moto')('in a versioned bucket', () => {
    const badSingle = (r: SeenRequest): Fault | undefined =>
      r.method === 'PUT' && !r.query.has('partNumber') ? { headers: { etag: BAD_MD5 } } : undefined;
    const badSize = (r: SeenRequest): Fault | undefined =>
      r.method === 'HEAD' ? { headers: { 'content-length': '7' } } : undefined;
    const badComplete = (r: SeenRequest): Fault | undefined =>
      r.method === 'POST' && r.query.has('uploadId')
        ? {
            body: (xml) =>
              xml.replace(/<ETag>(&quot;|")?[0-9a-f]{32}/, '<ETag>$10123456789abcdef0123456789abcdef'),
          }
        : undefined;

    it.each([
      ['a single PutObject with a wrong ETag', badSingle, 1000],
      ['a single PutObject whose stored size is wrong', badSize, 1000],
      ['a multipart upload whose stored size is wrong', badSize, 6 * MiB],
      ['a multipart upload with a wrong final ETag', badComplete, 11 * MiB],
    ])('leaves no version nor delete marker after %s', async (_what, fault, size) => {
      const { b, storage } = await setup(fault, true);
      await expect(storage.put('k', streamOf(randomBytes(size)))).rejects.toBeInstanceOf(IntegrityError);
      await expectEmpty(b);
    });

    it('drops only the version a failed put made: what it replaced stays', async () => {
      const { b, storage } = await setup(badSize, true);
      await b.client.send(new PutObjectCommand({ Bucket: b.name, Key: 'k', Body: 'before' }));
      await expect(storage.put('k', Buffer.from('after'))).rejects.toBeInstanceOf(IntegrityError);
      const versions = await b.client.send(new ListObjectVersionsCommand({ Bucket: b.name }));
      expect(versions.Versions?.map((v) => v.IsLatest)).toEqual([true]);
      expect(versions.DeleteMarkers ?? []).toEqual([]);
      expect((await readAll(await storage.get('k'))).toString()).toBe('before');
    });
  });
});
