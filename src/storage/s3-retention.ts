import { type HeadObjectCommandOutput, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { NotFoundError, StorageError } from '../errors.ts';
import type { S3Object } from './s3-delete.ts';
import { s3Error } from './s3-errors.ts';
import type { Retention } from './storage.ts';

/** The retention HeadObject shows (it needs s3:GetObjectRetention, as GetObjectRetention does). */
export function retentionOf(h: HeadObjectCommandOutput): Retention | undefined {
  const mode = h.ObjectLockMode;
  const until = h.ObjectLockRetainUntilDate;
  return mode && until ? { mode, until } : undefined;
}

/**
 * Storage.extendRetention for S3: PutObjectRetention on the version HeadObject saw, only when its
 * retention ends before `until`, keeping its mode (COMPLIANCE can only be extended, never
 * shortened or turned into GOVERNANCE; extending GOVERNANCE needs no bypass permission). An
 * unlocked object gets `unlockedMode`, the storage's configured one; with none it stays
 * unlocked. The new retention is read back: a server that ignores the request fails loudly.
 */
export async function extendS3Retention(
  o: S3Object & { head: (signal?: AbortSignal) => Promise<HeadObjectCommandOutput | undefined> },
  until: Date,
  unlockedMode: Retention['mode'] | undefined,
  signal?: AbortSignal,
): Promise<Retention | undefined> {
  const url = `s3://${o.bucket}/${o.key}`;
  const h = await o.head(signal);
  if (!h) throw new NotFoundError(`${url} does not exist`);
  const current = retentionOf(h);
  if (current && current.until >= until) return current;
  const mode = current?.mode ?? unlockedMode;
  if (!mode) return undefined;
  // S3 keeps whole seconds: round up, so the lock read back is never a fraction short.
  const target = new Date(Math.ceil(until.getTime() / 1000) * 1000);
  try {
    await o.client.send(
      new PutObjectRetentionCommand({
        Bucket: o.bucket,
        Key: o.key,
        ...(h.VersionId ? { VersionId: h.VersionId } : {}),
        Retention: { Mode: mode, RetainUntilDate: target },
      }),
      { abortSignal: signal },
    );
  } catch (err) {
    throw s3Error(err, o.where, `PutObjectRetention ${url}`, signal);
  }
  const back = await o.head(signal);
  const after = back && retentionOf(back);
  if (!after || after.until < until) {
    throw new StorageError(
      `${url}: the Object Lock retention did not take effect (asked ${mode} until ${target.toISOString()}, the server shows ${after ? `${after.mode} until ${after.until.toISOString()}` : 'none'})`,
    );
  }
  return after;
}
