import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { S3Storage } from '../../../src/config/schema.ts';
import { SecretValue } from '../../../src/config/secret.ts';
import { StorageError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import type { UploadTuning } from '../../../src/storage/multipart.ts';
import { growingPartSize } from '../../../src/storage/parts.ts';
import { createStorage } from '../../../src/storage/registry.ts';
import { createS3Storage } from '../../../src/storage/s3.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { type AuthS3Server, startAuthMoto } from '../../fixtures/s3-server.ts';
import { collect, describeStorageContract, readAll, streamOf } from './contract.ts';

const MiB = 1024 * 1024;
/** 5 MiB parts (S3's minimum) so multipart paths run on small bodies. */
const SMALL_PARTS: Partial<UploadTuning> = {
  partSize: growingPartSize({ first: 5 * MiB }),
  retryDelayMs: 10,
};
const skip = s3Missing();

function s3(cfg: S3Storage, tuning = SMALL_PARTS) {
  return createS3Storage('test', cfg, { log: silentLogger() }, tuning);
}

describe.skipIf(skip)('S3 storage', () => {
  describeStorageContract('s3', async () => {
    const b = await newBucket({ prefix: 'bo' });
    const moto = b.kind === 'moto';
    return {
      storage: s3(b.parsed),
      caps: { listIncomplete: moto, ifNoneMatch: moto, listOrder: moto },
      cleanup: () => b.destroy(),
    };
  });

  const buckets: TestBucket[] = [];
  async function bucket(opts: Parameters<typeof newBucket>[0] = {}) {
    const b = await newBucket(opts);
    buckets.push(b);
    return b;
  }
  afterAll(async () => {
    for (const b of buckets) await b.destroy();
  });

  it('behaves the same through the registry, which loads the S3 code on first use', async () => {
    const b = await bucket();
    const storage = createStorage('lazy', b.parsed, { log: silentLogger() });
    expect(storage.location).toBe(`s3://${b.name}/`);
    const body = Buffer.alloc(6 * MiB, 7);
    expect((await storage.put('k/big', body)).size).toBe(body.length);
    expect(Buffer.compare(await readAll(await storage.get('k/big')), body)).toBe(0);
    expect((await collect(storage.list('k/'))).map((o) => o.key)).toEqual(['k/big']);
    await storage.delete('k/big');
    expect(await storage.stat('k/big')).toBeUndefined();
    await storage.close();
  });

  it('keeps keys under the prefix, "bo" and "bo/" alike, and lists them relative to it', async () => {
    const b = await bucket();
    await s3({ ...b.parsed, prefix: 'bo' }).put('x/1', Buffer.from('1'));
    await s3({ ...b.parsed, prefix: 'bo/' }).put('x/2', Buffer.from('2'));
    await s3({ ...b.parsed, prefix: '' }).put('outside', Buffer.from('3'));
    const raw = await b.client.send(new ListObjectsV2Command({ Bucket: b.name }));
    expect(raw.Contents?.map((o) => o.Key)).toEqual(['bo/x/1', 'bo/x/2', 'outside']);
    expect((await collect(s3({ ...b.parsed, prefix: 'bo' }).list(''))).map((o) => o.key)).toEqual([
      'x/1',
      'x/2',
    ]);
  });

  it('sends short bodies as one PutObject and longer ones in parts that grow on schedule', async (ctx) => {
    const b = await bucket();
    if (b.kind !== 'moto') ctx.skip(); // s3rver's multipart ETag is a plain MD5
    // 5 MiB parts doubling every 2 parts: 5, 5, 10, 10, 20 … so 23 MiB takes 5+5+10+3.x = 4 parts.
    const storage = s3(b.parsed, {
      partSize: growingPartSize({ first: 5 * MiB, every: 2 }),
      retryDelayMs: 10,
    });
    const etag = async (key: string) =>
      (await b.client.send(new HeadObjectCommand({ Bucket: b.name, Key: key }))).ETag?.replace(/"/g, '');
    await storage.put('single', streamOf(randomBytes(5 * MiB - 1)));
    expect(await etag('single')).toMatch(/^[0-9a-f]{32}$/);
    const data = randomBytes(23 * MiB + 5);
    await storage.put('grown', streamOf(data));
    expect(await etag('grown')).toMatch(/^[0-9a-f]{32}-4$/);
    expect((await readAll(await storage.get('grown'))).equals(data)).toBe(true);
  });

  it('round-trips byte for byte with the SDK checksum mode when-supported', async () => {
    const b = await bucket();
    const storage = s3({ ...b.parsed, checksums: 'when-supported' });
    for (const [key, size] of [
      ['cs/three-million', 3_000_000],
      ['cs/multi', 11 * MiB + 7],
    ] as const) {
      const data = randomBytes(size);
      expect((await storage.put(key, streamOf(data))).size).toBe(size);
      const back = await readAll(await storage.get(key));
      expect(back.length).toBe(size);
      expect(back.equals(data)).toBe(true);
    }
  });

  it('lists and aborts incomplete multipart uploads', async (ctx) => {
    const b = await bucket({ prefix: 'bo' });
    if (b.kind !== 'moto') ctx.skip(); // s3rver does not implement ListMultipartUploads
    const storage = s3(b.parsed);
    const created = await b.client.send(
      new CreateMultipartUploadCommand({ Bucket: b.name, Key: 'bo/inc/k' }),
    );
    const found = await collect(storage.listIncomplete('inc/'));
    expect(found.map((u) => [u.key, u.uploadId])).toEqual([['inc/k', created.UploadId]]);
    expect(found[0]?.initiated).toBeInstanceOf(Date);
    expect(await collect(storage.listIncomplete('other/'))).toEqual([]);
    await storage.abortIncomplete(found[0]!);
    await storage.abortIncomplete(found[0]!); // idempotent
    expect(await collect(storage.listIncomplete(''))).toEqual([]);
  });

  it('stores only bulk objects in storageClass, single and multipart; everything else stays STANDARD', async (ctx) => {
    const b = await bucket({ prefix: 'bo' });
    if (b.kind !== 'moto') ctx.skip(); // s3rver does not record storage classes
    const storage = s3({ ...b.parsed, storageClass: 'STANDARD_IA' });
    await storage.put('j/1/archive.tar.zst', streamOf(randomBytes(6 * MiB)), { bulk: true });
    await storage.put('j/1/dump-db.sql.zst', Buffer.from('dump'), { bulk: true });
    await storage.put('j/1/index.jsonl.zst', Buffer.from('index'));
    await storage.put('j/1/manifest.json', Buffer.from('{}'));
    await storage.put('_bo/locks/job/j/000000000001.json', Buffer.from('{}'), { ifNoneMatch: true });
    await storage.put('_bo/catalog/j.json.zst', streamOf(randomBytes(6 * MiB)));
    const listed = await b.client.send(new ListObjectsV2Command({ Bucket: b.name }));
    expect(Object.fromEntries((listed.Contents ?? []).map((o) => [o.Key, o.StorageClass]))).toEqual({
      'bo/_bo/catalog/j.json.zst': 'STANDARD',
      'bo/_bo/locks/job/j/000000000001.json': 'STANDARD',
      'bo/j/1/archive.tar.zst': 'STANDARD_IA',
      'bo/j/1/dump-db.sql.zst': 'STANDARD_IA',
      'bo/j/1/index.jsonl.zst': 'STANDARD',
      'bo/j/1/manifest.json': 'STANDARD',
    });
    const head = async (key: string) =>
      (await b.client.send(new HeadObjectCommand({ Bucket: b.name, Key: `bo/${key}` }))).StorageClass;
    expect(await head('j/1/archive.tar.zst')).toBe('STANDARD_IA');
    expect(await head('j/1/manifest.json')).toBeUndefined(); // HeadObject omits STANDARD
  });

  // s3rver has no Object Lock.
  describe.skipIf(inject('s3')?.kind !== 'moto')('Object Lock', () => {
    let b: TestBucket;
    beforeAll(async () => {
      b = await bucket({ objectLock: true });
    });

    it('locks every object written, single and multipart, and refuses to delete it', async () => {
      const storage = s3({ ...b.parsed, objectLock: { mode: 'GOVERNANCE', days: 1 } });
      const before = Date.now();
      await storage.put('lock/small', Buffer.from('locked'));
      await storage.put('lock/multi', streamOf(randomBytes(11 * MiB)));
      for (const key of ['lock/small', 'lock/multi']) {
        const r = await storage.retention(key);
        expect(r?.mode).toBe('GOVERNANCE');
        const until = r?.until.getTime() ?? 0;
        expect(until).toBeGreaterThanOrEqual(before + 86_400_000 - 1000);
        expect(until).toBeLessThanOrEqual(Date.now() + 86_400_000 + 1000);
        const err = await storage.delete(key).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StorageError);
        expect((err as Error).message).toMatch(/is locked \(GOVERNANCE\) until \d{4}-\d\d-\d\dT/);
        expect((await storage.stat(key))?.key).toBe(key);
      }
    });

    it('says so when the bucket has no Object Lock', async () => {
      const plain = await bucket();
      const storage = s3({ ...plain.parsed, objectLock: { mode: 'GOVERNANCE', days: 1 } });
      await expect(storage.put('k', Buffer.from('x'))).rejects.toThrow(
        `bucket "${plain.name}" does not have Object Lock enabled`,
      );
    });

    it('reports no retention on objects written without it', async () => {
      const storage = s3(b.parsed);
      await storage.put('nolock/k', Buffer.from('x'));
      expect(await storage.retention('nolock/k')).toBeUndefined();
    });
  });

  describe('failures give a clear StorageError', () => {
    it('object in an archive storage class (not a credentials problem)', async (ctx) => {
      const b = await bucket();
      if (b.kind !== 'moto') ctx.skip(); // s3rver has no storage classes
      const storage = s3({ ...b.parsed, storageClass: 'GLACIER' });
      await storage.put('cold/archive', Buffer.from('frozen'), { bulk: true });
      const err = await storage.get('cold/archive').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).message).toBe(
        `s3://${b.name}/cold/archive is in storage class GLACIER and must be restored before it can be read`,
      );
      expect((err as StorageError).hint).toMatch(/aws s3api restore-object/);
    });

    it('missing bucket', async () => {
      const b = await bucket();
      const storage = s3({ ...b.parsed, bucket: `${b.name}-missing` });
      const expected = `bucket "${b.name}-missing" does not exist at ${b.endpoint}`;
      await expect(storage.stat('k')).rejects.toThrow(expected);
      await expect(storage.get('k')).rejects.toThrow(expected);
      await expect(collect(storage.list(''))).rejects.toThrow(expected);
      await expect(storage.put('k', Buffer.from('x'))).rejects.toThrow(expected);
      await expect(storage.put('k', streamOf(randomBytes(6 * MiB)))).rejects.toThrow(expected);
      await expect(storage.delete('k')).rejects.toThrow(expected);
    });

    it('unreachable endpoint', async () => {
      const b = await bucket();
      const storage = s3({ ...b.parsed, endpoint: 'http://127.0.0.1:9', timeout: 5000 });
      await expect(storage.stat('k')).rejects.toThrow(
        /cannot reach S3 endpoint http:\/\/127\.0\.0\.1:9: ECONNREFUSED/,
      );
      await expect(storage.put('k', Buffer.from('x'))).rejects.toThrow(/cannot reach S3 endpoint/);
    });

    it('endpoint that accepts connections but never answers', async () => {
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = silent.address() as AddressInfo;
        const b = await bucket();
        const storage = s3({ ...b.parsed, endpoint: `http://127.0.0.1:${port}`, timeout: 200 });
        await expect(storage.stat('k')).rejects.toThrow(
          /cannot reach S3 endpoint http:\/\/127\.0\.0\.1:\d+: ETIMEDOUT/,
        );
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    describe('credentials', () => {
      let auth: AuthS3Server | undefined;
      let good: S3Storage;
      beforeAll(async () => {
        const shared = inject('s3');
        if (shared?.kind === 'moto') {
          auth = await startAuthMoto();
          if (!auth) return;
          const { endpoint, accessKeyId, secretAccessKey } = auth;
          good = parseResolved(S3Storage, { type: 's3', endpoint, bucket: 'bo-auth', forcePathStyle: true });
          good.accessKeyId = new SecretValue(accessKeyId, 'test');
          good.secretAccessKey = new SecretValue(secretAccessKey, 'test');
          const client = new S3Client({
            endpoint,
            region: 'us-east-1',
            forcePathStyle: true,
            credentials: { accessKeyId, secretAccessKey },
          });
          await client.send(new CreateBucketCommand({ Bucket: good.bucket }));
          client.destroy();
        } else {
          good = (await bucket()).parsed; // s3rver checks access key ids, not SigV4 signatures
        }
      });
      afterAll(async () => {
        await auth?.stop();
      });

      it('unknown access key id', async () => {
        const storage = s3({ ...good, accessKeyId: new SecretValue('AKIANOSUCHKEY0000000', 'test') });
        await expect(collect(storage.list(''))).rejects.toThrow(
          /S3 rejected the credentials: InvalidAccessKeyId/,
        );
        await expect(storage.put('k', Buffer.from('x'))).rejects.toThrow(/S3 rejected the credentials/);
      });

      it('wrong secret', async (ctx) => {
        if (!auth) ctx.skip(); // only moto verifies SigV4 signatures
        const ok = s3(good);
        await ok.put('k', Buffer.from('authorised'));
        expect((await readAll(await ok.get('k'))).toString()).toBe('authorised');
        const storage = s3({ ...good, secretAccessKey: new SecretValue('wrong-secret', 'test') });
        await expect(collect(storage.list(''))).rejects.toThrow(
          /S3 rejected the credentials: SignatureDoesNotMatch/,
        );
        await expect(storage.put('k2', Buffer.from('x'))).rejects.toThrow(/S3 rejected the credentials/);
      });
    });
  });
});
