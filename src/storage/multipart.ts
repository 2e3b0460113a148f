import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AlreadyExistsError, IntegrityError, isAbortError, StorageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { MAX_PARTS, maxObjectSize, type PartReader, type PartSizeSchedule } from './parts.ts';
import { withRetries } from './retry.ts';
import { deleteS3Object } from './s3-delete.ts';
import { httpStatus, type S3Where, s3Error } from './s3-errors.ts';

/**
 * How archives are cut into parts. We do not use lib-storage's `Upload`: it takes one fixed
 * partSize, so an archive of unknown length needs either large parts for everything (memory ×
 * queueSize even for small backups) or small parts that cap the object at 10,000 × partSize. It
 * also hides part ETags, so we could not check each part's MD5 or the final multipart ETag.
 */
export interface UploadTuning {
  partSize: PartSizeSchedule;
  partConcurrency: number;
  /** Bytes held by parts in flight plus the part being filled; raised to two parts when parts grow. */
  maxBufferedBytes: number;
  /** Tries per part (and per single PutObject) on top of the SDK's own retries. */
  partAttempts: number;
  retryDelayMs: number;
}

/** Where one object goes, and what every write of it carries. */
export interface UploadTarget {
  client: S3Client;
  bucket: string;
  /** Full key, storage prefix included. */
  key: string;
  where: S3Where;
  log: Logger;
  /** Object Lock, storage class, content type: set on PutObject and CreateMultipartUpload. */
  params: Record<string, unknown>;
}

export function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** Quotes stripped; undefined when the server's ETag is not an MD5 (SSE-KMS, some S3 clones). */
export function md5Etag(etag: string | undefined, multipart: boolean): string | undefined {
  const e = etag?.replace(/^"|"$/g, '').toLowerCase();
  return e && (multipart ? /^[0-9a-f]{32}-\d+$/ : /^[0-9a-f]{32}$/).test(e) ? e : undefined;
}

/** Worth another try: network trouble, 5xx, throttling, or a part that arrived corrupted. */
export function retryable(err: unknown): boolean {
  if (isAbortError(err) || err instanceof AlreadyExistsError) return false;
  if ((err as Error).name === 'CredentialsProviderError') return false;
  const status = httpStatus(err);
  return status === undefined || status >= 500 || status === 408 || status === 429;
}

/**
 * Streams the rest of the body as a multipart upload whose first part is already read. At most
 * `partConcurrency` parts are in flight and buffered bytes stay under the budget, so memory is
 * bounded whatever the length. Any failure or abort cancels in-flight parts, waits for them,
 * then aborts the upload, so no parts are left behind. Resolves the version id it created, if any.
 */
export async function uploadMultipart(
  t: UploadTarget,
  first: Buffer,
  reader: PartReader,
  /** beforeComplete: called once every part is uploaded; throwing aborts the upload. */
  opts: { ifNoneMatch: boolean; beforeComplete?: () => void },
  tuning: UploadTuning,
  /** `signal` fires on the caller's abort and on `abort()`, which this calls on the first failure. */
  cancel: { signal: AbortSignal; abort(): void },
): Promise<string | undefined> {
  const { signal } = cancel;
  const what = `multipart upload s3://${t.bucket}/${t.key}`;
  let uploadId: string;
  try {
    const created = await t.client.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, ...t.params }),
      { abortSignal: signal },
    );
    if (!created.UploadId) throw new StorageError(`${what}: the server returned no upload id`);
    uploadId = created.UploadId;
  } catch (err) {
    throw s3Error(err, t.where, what, signal);
  }

  const parts: CompletedPart[] = [];
  const md5s: Buffer[] = [];
  const inflight = new Set<Promise<void>>();
  let inflightBytes = 0;
  let failure: unknown;
  let completed: { versionId: string | undefined } | undefined;
  const start = (n: number, data: Buffer) => {
    inflightBytes += data.length;
    const p = uploadPart(t, uploadId, n, data, tuning, signal)
      .then(({ etag, md5 }) => {
        parts[n - 1] = { PartNumber: n, ETag: etag };
        md5s[n - 1] = md5;
        reader.release(data);
      })
      .catch((err: unknown) => {
        failure ??= err;
        cancel.abort();
      })
      .finally(() => {
        inflight.delete(p);
        inflightBytes -= data.length;
      });
    inflight.add(p);
  };

  try {
    let data = first;
    for (let n = 1; ; ) {
      start(n, data);
      if (data.length < tuning.partSize(n)) break; // a short part is the last
      n++;
      if (n > MAX_PARTS) {
        if ((await reader.read(1)).length === 0) break;
        throw new StorageError(
          `${what}: the archive exceeds ${maxObjectSize(tuning.partSize)} bytes, the most ${MAX_PARTS} parts can hold`,
        );
      }
      const size = tuning.partSize(n);
      const budget = Math.max(tuning.maxBufferedBytes, 2 * size);
      while (
        inflight.size >= tuning.partConcurrency ||
        (inflight.size > 0 && inflightBytes + size > budget)
      ) {
        await Promise.race(inflight);
      }
      if (failure) throw failure;
      data = await reader.read(size);
      if (data.length === 0) break; // the body ended exactly on a part boundary
    }
    await Promise.all([...inflight]);
    if (failure) throw failure;
    opts.beforeComplete?.();
    await complete(t, uploadId, parts, md5s, opts.ifNoneMatch, signal, (versionId) => {
      completed = { versionId };
    });
    return completed?.versionId;
  } catch (err) {
    failure ??= err;
    cancel.abort();
    await Promise.allSettled([...inflight]);
    if (completed) await removeQuietly(t, completed.versionId);
    else await abortUpload(t, uploadId);
    throw failure;
  }
}

async function uploadPart(
  t: UploadTarget,
  uploadId: string,
  n: number,
  data: Buffer,
  tuning: UploadTuning,
  signal: AbortSignal,
): Promise<{ etag: string; md5: Buffer }> {
  const md5 = createHash('md5').update(data).digest();
  const what = `UploadPart ${n} of s3://${t.bucket}/${t.key}`;
  try {
    return await withRetries(
      async () => {
        const r = await t.client.send(
          new UploadPartCommand({
            Bucket: t.bucket,
            Key: t.key,
            UploadId: uploadId,
            PartNumber: n,
            Body: data,
            ContentLength: data.length,
            // S3 rejects a part whose bytes do not match (BadDigest); Object Lock requires it anyway.
            ContentMD5: md5.toString('base64'),
          }),
          { abortSignal: signal },
        );
        if (!r.ETag) throw new IntegrityError(`${what}: the server returned no ETag`);
        const got = md5Etag(r.ETag, false);
        if (got !== undefined && got !== md5.toString('hex')) {
          throw new IntegrityError(`${what}: ETag ${got} is not the part's MD5 ${md5.toString('hex')}`);
        }
        return { etag: r.ETag, md5 };
      },
      {
        attempts: tuning.partAttempts,
        delayMs: tuning.retryDelayMs,
        signal,
        retryable: (err) => err instanceof IntegrityError || retryable(err),
        onRetry: (err, attempt) =>
          t.log.warn({ key: t.key, part: n, attempt, err: (err as Error).message }, 'Retrying part upload'),
      },
    );
  } catch (err) {
    throw s3Error(err, t.where, what, signal);
  }
}

async function complete(
  t: UploadTarget,
  uploadId: string,
  parts: CompletedPart[],
  md5s: Buffer[],
  ifNoneMatch: boolean,
  signal: AbortSignal,
  onCompleted: (versionId: string | undefined) => void,
): Promise<void> {
  const what = `CompleteMultipartUpload s3://${t.bucket}/${t.key}`;
  let etag: string | undefined;
  try {
    const r = await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: t.bucket,
        Key: t.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      }),
      { abortSignal: signal },
    );
    etag = r.ETag;
    onCompleted(r.VersionId);
  } catch (err) {
    if (ifNoneMatch && (httpStatus(err) === 412 || httpStatus(err) === 409)) {
      throw new AlreadyExistsError(`s3://${t.bucket}/${t.key} already exists`, { cause: err });
    }
    throw s3Error(err, t.where, what, signal);
  }
  // S3's multipart ETag is the MD5 of the concatenated binary part MD5s, then "-<part count>".
  const expected = `${md5Hex(Buffer.concat(md5s))}-${parts.length}`;
  const got = md5Etag(etag, true);
  if (got !== undefined && got !== expected) {
    throw new IntegrityError(`${what}: ETag ${got} does not match the parts sent (${expected})`);
  }
}

/**
 * Deletes an object this put created but could not verify; a failed put leaves nothing. In a
 * versioned bucket that is `versionId`, the version the put made (from its response).
 */
export async function removeQuietly(t: UploadTarget, versionId: string | undefined): Promise<void> {
  try {
    await deleteS3Object(t, { id: versionId }, AbortSignal.timeout(60_000));
  } catch (err) {
    t.log.warn(
      { bucket: t.bucket, key: t.key, err: (err as Error).message },
      'Cannot remove unverified object',
    );
  }
}

async function abortUpload(t: UploadTarget, uploadId: string): Promise<void> {
  try {
    await t.client.send(
      new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId }),
      {
        abortSignal: AbortSignal.timeout(60_000),
      },
    );
  } catch (err) {
    t.log.warn(
      { bucket: t.bucket, key: t.key, uploadId, err: (err as Error).message },
      'Cannot abort multipart upload',
    );
  }
}
