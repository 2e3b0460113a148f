import { addAbortSignal, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type StorageClass,
} from '@aws-sdk/client-s3';
import type { S3Storage } from '../config/schema.ts';
import { NotFoundError, StorageError } from '../errors.ts';
import { checkKey, normalizePrefix } from './keys.ts';
import type { UploadTuning } from './multipart.ts';
import { growingPartSize, partScheduleFor } from './parts.ts';
import type { StorageDeps } from './registry.ts';
import { createS3Client, endpointOf } from './s3-client.ts';
import { copyObject, MAX_COPY_OBJECT } from './s3-copy.ts';
import { deleteS3Object } from './s3-delete.ts';
import { archivedObject, errorCode, httpStatus, noSuchBucket, type S3Where, s3Error } from './s3-errors.ts';
import { putObject } from './s3-put.ts';
import { extendS3Retention, retentionOf } from './s3-retention.ts';
import { s3ServerSide } from './s3-scope.ts';
import { requestS3Restore, tierOf } from './s3-tier.ts';
import type { IncompleteUpload, ObjectInfo, Retention, Storage } from './storage.ts';

const DAY_MS = 86_400_000;
/** User metadata (x-amz-meta-bo-sha256) holding the SHA-256 a copy was verified against. */
const SHA256_META = 'bo-sha256';

/**
 * An S3 bucket (AWS or S3-compatible). Keys live under `cfg.prefix`. `tuning` overrides how
 * uploads are cut into parts (tests use small parts); the defaults suit archives of any size.
 */
export function createS3Storage(
  name: string,
  cfg: S3Storage,
  deps: StorageDeps,
  tuning: Partial<UploadTuning> = {},
): Storage {
  const client = createS3Client(name, cfg);
  const bucket = cfg.bucket;
  const prefix = normalizePrefix(cfg.prefix);
  const where: S3Where = { name, endpoint: endpointOf(cfg), bucket };
  const full = (key: string) => prefix + checkKey(key);
  const url = (key: string) => `s3://${bucket}/${prefix}${key}`;
  const uploadTuning: UploadTuning = {
    partSize: growingPartSize(),
    partConcurrency: cfg.partConcurrency,
    maxBufferedBytes: 64 * 1024 * 1024,
    partAttempts: 3,
    retryDelayMs: 1000,
    ...tuning,
  };

  // HEAD responses carry no error body, so a 404 cannot tell a missing key from a missing bucket.
  let bucketChecked = false;
  async function ensureBucket(): Promise<void> {
    if (bucketChecked) return;
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      bucketChecked = true;
    } catch (err) {
      if (httpStatus(err) === 404) throw noSuchBucket(where, err);
      throw s3Error(err, where, `HeadBucket s3://${bucket}`);
    }
  }

  async function head(key: string, signal?: AbortSignal): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: full(key) }), {
        abortSignal: signal,
      });
    } catch (err) {
      if (httpStatus(err) !== 404) throw s3Error(err, where, `HeadObject ${url(key)}`, signal);
      await ensureBucket();
      return undefined;
    }
  }

  /** Object Lock, storage class (bulk data only), content type and the verified SHA-256 of a write. */
  function writeParams(opts: { bulk?: boolean; contentType?: string; expect?: { sha256: string } }) {
    const lock: Retention | undefined = cfg.objectLock && {
      mode: cfg.objectLock.mode,
      until: new Date(Date.now() + cfg.objectLock.days * DAY_MS),
    };
    const params = {
      ...(lock ? { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: lock.until } : {}),
      ...(cfg.storageClass && opts.bulk ? { StorageClass: cfg.storageClass as StorageClass } : {}),
      ...(opts.contentType ? { ContentType: opts.contentType } : {}),
      ...(opts.expect ? { Metadata: { [SHA256_META]: opts.expect.sha256 } } : {}),
    };
    return { params, lock };
  }
  const serverSide = s3ServerSide(cfg);

  return {
    name,
    type: 's3',
    location: `s3://${bucket}/${prefix}`,
    lockable: true,
    volumeSize: cfg.volumeSize,

    async put(key, body, opts = {}) {
      const { params, lock } = writeParams(opts);
      let fullKey: string;
      try {
        fullKey = full(key);
      } catch (err) {
        if (!Buffer.isBuffer(body)) body.destroy();
        throw err;
      }
      const target = { client, bucket, key: fullKey, where, log: deps.log, params, lock };
      // A known bound (a volume) caps the part size, unless the caller tuned the parts itself.
      const partSize =
        opts.sizeHint !== undefined && !tuning.partSize
          ? partScheduleFor(opts.sizeHint)
          : uploadTuning.partSize;
      const { size, sha256 } = await putObject(target, body, opts, { ...uploadTuning, partSize });
      return { key, size, sha256 };
    },

    async get(key, opts = {}) {
      const range = opts.range && `bytes=${opts.range.start}-${opts.range.end}`;
      try {
        const r = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: full(key), ...(range ? { Range: range } : {}) }),
          { abortSignal: opts.signal },
        );
        const body = r.Body as Readable;
        return opts.signal ? addAbortSignal(opts.signal, body) : body;
      } catch (err) {
        if (errorCode(err) === 'NoSuchKey')
          throw new NotFoundError(`${url(key)} does not exist`, { cause: err });
        if (errorCode(err) === 'InvalidObjectState') throw archivedObject(url(key), err);
        throw s3Error(err, where, `GetObject ${url(key)}`, opts.signal);
      }
    },

    async stat(key) {
      const h = await head(key);
      return (
        h && {
          key,
          size: h.ContentLength ?? 0,
          lastModified: h.LastModified ?? new Date(0),
          etag: h.ETag,
          sha256: h.Metadata?.[SHA256_META],
          tier: tierOf(h),
        }
      );
    },

    serverSide,

    async copyIn(from, fromKey, key, opts) {
      const src = from.serverSide;
      if (!src || src.scope !== serverSide.scope || opts.expect.size > MAX_COPY_OBJECT) return undefined;
      // The lock is set once the copy is checked (PutObjectRetention): with Object Lock headers,
      // CopyObject needs a Content-MD5 that a copy cannot send (moto refuses it without).
      const { params, lock } = writeParams(opts);
      const { ObjectLockMode: _m, ObjectLockRetainUntilDate: _u, ...copyParams } = params;
      const t = {
        client,
        bucket,
        key: full(key),
        relKey: key,
        where,
        log: deps.log,
        params: copyParams,
        lock,
      };
      return await copyObject(t, src.locate(fromKey), opts);
    },

    async requestRestore(key, opts) {
      const h = await head(key, opts.signal);
      if (!h) throw new NotFoundError(`${url(key)} does not exist`);
      const tier = tierOf(h);
      if (tier?.state !== 'archived') return; // readable, or a restore is already under way
      await requestS3Restore({ client, bucket, key: full(key), where }, tier, opts);
    },

    async *list(listPrefix, opts = {}): AsyncGenerator<ObjectInfo> {
      let token: string | undefined;
      do {
        let page: ListObjectsV2CommandOutput;
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix + listPrefix,
              ContinuationToken: token,
            }),
            { abortSignal: opts.signal },
          );
        } catch (err) {
          throw s3Error(err, where, `ListObjectsV2 ${url(listPrefix)}`, opts.signal);
        }
        for (const o of page.Contents ?? []) {
          if (!o.Key?.startsWith(prefix)) continue;
          yield {
            key: o.Key.slice(prefix.length),
            size: o.Size ?? 0,
            lastModified: o.LastModified ?? new Date(0),
            etag: o.ETag,
          };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async delete(key) {
      const h = await head(key);
      if (!h) return;
      const until = h.ObjectLockRetainUntilDate;
      if (h.ObjectLockMode && until && until.getTime() > Date.now()) {
        throw new StorageError(
          `${url(key)} is locked (${h.ObjectLockMode}) until ${until.toISOString()}; it cannot be deleted before then`,
        );
      }
      if (h.ObjectLockLegalHoldStatus === 'ON')
        throw new StorageError(`${url(key)} is under an Object Lock legal hold`);
      // HeadObject names a version only in a versioned (or suspended) bucket: then every one goes.
      await deleteS3Object({ client, bucket, key: full(key), where }, { id: h.VersionId, all: true });
    },

    async *listIncomplete(listPrefix): AsyncGenerator<IncompleteUpload> {
      let keyMarker: string | undefined;
      let idMarker: string | undefined;
      for (;;) {
        let page: ListMultipartUploadsCommandOutput;
        try {
          page = await client.send(
            new ListMultipartUploadsCommand({
              Bucket: bucket,
              Prefix: prefix + listPrefix,
              KeyMarker: keyMarker,
              UploadIdMarker: idMarker,
            }),
          );
        } catch (err) {
          throw s3Error(err, where, `ListMultipartUploads ${url(listPrefix)}`);
        }
        for (const u of page.Uploads ?? []) {
          if (!u.Key?.startsWith(prefix) || !u.UploadId) continue;
          yield {
            key: u.Key.slice(prefix.length),
            uploadId: u.UploadId,
            initiated: u.Initiated ?? new Date(0),
          };
        }
        if (!page.IsTruncated || !page.NextKeyMarker) return;
        keyMarker = page.NextKeyMarker;
        idMarker = page.NextUploadIdMarker;
      }
    },

    async abortIncomplete(upload) {
      try {
        await client.send(
          new AbortMultipartUploadCommand({
            Bucket: bucket,
            Key: full(upload.key),
            UploadId: upload.uploadId,
          }),
        );
      } catch (err) {
        if (errorCode(err) === 'NoSuchUpload') return;
        throw s3Error(err, where, `AbortMultipartUpload ${url(upload.key)}`);
      }
    },

    /** Read with HeadObject (same s3:GetObjectRetention permission as GetObjectRetention). */
    async retention(key) {
      const h = await head(key);
      if (!h) throw new NotFoundError(`${url(key)} does not exist`);
      return retentionOf(h);
    },

    async extendRetention(key, until, opts = {}) {
      const o = { client, bucket, key: full(key), where, head: (signal?: AbortSignal) => head(key, signal) };
      return await extendS3Retention(o, until, cfg.objectLock?.mode, opts.signal);
    },

    async close() {
      client.destroy();
    },
  };
}
