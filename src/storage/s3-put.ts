import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { HeadObjectCommand, PutObjectCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { AlreadyExistsError, IntegrityError } from '../errors.ts';
import { bodyChunks, cancelledOr, checkExpected, createMeter, metered } from './body.ts';
import {
  md5Etag,
  removeQuietly,
  retryable,
  type UploadTarget,
  type UploadTuning,
  uploadMultipart,
} from './multipart.ts';
import { createPartReader } from './parts.ts';
import { withRetries } from './retry.ts';
import { httpStatus, s3Error } from './s3-errors.ts';
import type { PutOptions, Retention } from './storage.ts';

/**
 * Stores `body` at `t.key`: one PutObject with a known length when it is shorter than the first
 * part, a streamed multipart upload otherwise. SHA-256 is computed while streaming; the stored
 * size is checked with HeadObject before resolving. On failure nothing is left at the key.
 */
export async function putObject(
  t: UploadTarget & { lock: Retention | undefined },
  body: Readable | Buffer,
  opts: PutOptions,
  tuning: UploadTuning,
): Promise<{ size: number; sha256: string }> {
  const ac = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
  const meter = createMeter(opts.onProgress);
  const chunks = metered(bodyChunks(body, signal), meter);
  const reader = createPartReader(chunks, tuning.partConcurrency + 1);
  const ifNoneMatch = opts.ifNoneMatch === true;
  let stored: { versionId: string | undefined } | undefined;
  try {
    const firstSize = tuning.partSize(1);
    const first = await reader.read(firstSize);
    const where = `s3://${t.bucket}/${t.key}`;
    const beforeComplete = () => checkExpected(meter, opts.expect, where);
    let versionId: string | undefined;
    if (first.length < firstSize) {
      beforeComplete();
      versionId = await putSingle(t, first, ifNoneMatch, tuning, signal);
    } else {
      versionId = await uploadMultipart(t, first, reader, { ifNoneMatch, beforeComplete }, tuning, {
        signal,
        abort: () => ac.abort(),
      });
    }
    stored = { versionId };
    await verifyStored(t, meter.bytes, signal);
    return { size: meter.bytes, sha256: meter.sha256() };
  } catch (err) {
    const e = cancelledOr(err, opts.signal); // before the aborts below can make it look cancelled
    ac.abort();
    if (!Buffer.isBuffer(body)) body.destroy();
    if (stored) await removeQuietly(t, stored.versionId);
    throw e;
  } finally {
    chunks.return(undefined).catch(() => {});
  }
}

async function putSingle(
  t: UploadTarget,
  data: Buffer,
  ifNoneMatch: boolean,
  tuning: UploadTuning,
  signal: AbortSignal,
): Promise<string | undefined> {
  const md5 = createHash('md5').update(data).digest();
  const what = `PutObject s3://${t.bucket}/${t.key}`;
  try {
    return await withRetries(
      async () => {
        const r = await t.client.send(
          new PutObjectCommand({
            Bucket: t.bucket,
            Key: t.key,
            Body: data,
            ContentLength: data.length,
            ContentMD5: md5.toString('base64'),
            ...t.params,
            ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          }),
          { abortSignal: signal },
        );
        const got = md5Etag(r.ETag, false);
        if (got !== undefined && got !== md5.toString('hex')) {
          // Each bad attempt goes at once: a retry's success would leave it as an older version.
          await removeQuietly(t, r.VersionId);
          throw new IntegrityError(`${what}: ETag ${got} is not the body's MD5 ${md5.toString('hex')}`);
        }
        return r.VersionId;
      },
      {
        // A create-only put is not retried here: a lost 200 would come back as 412 and lie.
        attempts: ifNoneMatch ? 1 : tuning.partAttempts,
        delayMs: tuning.retryDelayMs,
        signal,
        retryable: (err) => err instanceof IntegrityError || retryable(err),
      },
    );
  } catch (err) {
    if (ifNoneMatch && (httpStatus(err) === 412 || httpStatus(err) === 409)) {
      throw new AlreadyExistsError(`s3://${t.bucket}/${t.key} already exists`, { cause: err });
    }
    throw s3Error(err, t.where, what, signal);
  }
}

/**
 * HeadObject must report exactly the bytes sent. With Object Lock configured the object must
 * also carry a retention: servers that ignore the lock headers on CreateMultipartUpload (moto
 * does) get it set with PutObjectRetention, so every object bo writes is locked either way.
 */
export async function verifyStored(
  t: UploadTarget & { lock: Retention | undefined },
  size: number,
  signal: AbortSignal,
): Promise<void> {
  const where = `s3://${t.bucket}/${t.key}`;
  let step = `HeadObject ${where}`;
  try {
    const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key }), {
      abortSignal: signal,
    });
    if (head.ContentLength !== size) {
      throw new IntegrityError(
        `${where}: the server stored ${head.ContentLength} bytes but ${size} were sent`,
      );
    }
    if (t.lock && !head.ObjectLockMode) {
      step = `PutObjectRetention ${where}`;
      await t.client.send(
        new PutObjectRetentionCommand({
          Bucket: t.bucket,
          Key: t.key,
          VersionId: head.VersionId,
          Retention: { Mode: t.lock.mode, RetainUntilDate: t.lock.until },
        }),
        { abortSignal: signal },
      );
    }
  } catch (err) {
    throw s3Error(err, t.where, step, signal);
  }
}
