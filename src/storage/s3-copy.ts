/**
 * Server-side copies between S3 storages that share an endpoint and credentials: one CopyObject
 * per object (S3 copies up to 5 GiB in one request; bigger objects are streamed by the caller).
 * The copy asks S3 for the new object's SHA-256 (x-amz-checksum-algorithm), which must be the
 * manifest's; a server that does not compute it gets the copy read back and hashed instead. A
 * copy that differs is deleted before this rejects.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CopyObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { IntegrityError } from '../errors.ts';
import { removeQuietly, type UploadTarget } from './multipart.ts';
import { errorCode, httpStatus, s3Error } from './s3-errors.ts';
import { verifyStored } from './s3-put.ts';
import type { CopyInOptions, PutResult, Retention, ServerSide } from './storage.ts';

/** The most one CopyObject request copies. */
export const MAX_COPY_OBJECT = 5 * 1024 ** 3;

export type CopyTarget = UploadTarget & { lock: Retention | undefined; relKey: string };

/** Undefined when S3 refused to copy (e.g. the target's credentials cannot read the source). */
export async function copyObject(
  t: CopyTarget,
  from: ReturnType<ServerSide['locate']>,
  opts: CopyInOptions,
): Promise<PutResult | undefined> {
  const what = `CopyObject s3://${from.bucket}/${from.key} → s3://${t.bucket}/${t.key}`;
  let versionId: string | undefined;
  let checksum: string | undefined;
  try {
    const r = await t.client.send(
      new CopyObjectCommand({
        Bucket: t.bucket,
        Key: t.key,
        CopySource: `${from.bucket}/${encodeURIComponent(from.key).replace(/%2F/g, '/')}`,
        MetadataDirective: 'REPLACE',
        ChecksumAlgorithm: 'SHA256',
        ...t.params,
      }),
      { abortSignal: opts.signal },
    );
    versionId = r.VersionId;
    checksum = r.CopyObjectResult?.ChecksumSHA256;
  } catch (err) {
    if (!opts.signal?.aborted && (errorCode(err) === 'AccessDenied' || httpStatus(err) === 403)) {
      t.log.warn({ key: t.key, err: (err as Error).message }, 'Server-side copy refused; streaming instead');
      return undefined;
    }
    throw s3Error(err, t.where, what, opts.signal);
  }
  try {
    const sha256 = checksum
      ? Buffer.from(checksum, 'base64').toString('hex')
      : await readBack(t, opts.signal);
    if (sha256 !== opts.expect.sha256) {
      throw new IntegrityError(
        `${what}: the copy's SHA-256 ${sha256} is not the manifest's ${opts.expect.sha256}: the source object is corrupted; nothing was stored`,
      );
    }
    await verifyStored(t, opts.expect.size, opts.signal ?? new AbortController().signal);
    return { key: t.relKey, size: opts.expect.size, sha256 };
  } catch (err) {
    await removeQuietly(t, versionId);
    throw err;
  }
}

async function readBack(t: CopyTarget, signal: AbortSignal | undefined): Promise<string> {
  const r = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: t.key }), {
    abortSignal: signal,
  });
  const hash = createHash('sha256');
  for await (const chunk of r.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
