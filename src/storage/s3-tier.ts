import { type HeadObjectCommandOutput, RestoreObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { errorCode, type S3Where, s3Error } from './s3-errors.ts';
import type { RestoreRequestOptions, TierState } from './storage.ts';

/** Storage classes whose objects cannot be read until restored (GLACIER_IR is read directly). */
const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/**
 * An object's archive tier from its HeadObject answer: its storage class (or Intelligent-Tiering's
 * archive status) and the `x-amz-restore` header (`ongoing-request="true"`, or `"false"` with an
 * expiry date once restored). Undefined for an object that reads normally.
 */
export function tierOf(h: HeadObjectCommandOutput): TierState | undefined {
  const cls = h.ArchiveStatus
    ? `${h.StorageClass ?? 'INTELLIGENT_TIERING'} (${h.ArchiveStatus})`
    : h.StorageClass;
  if (!cls || (!ARCHIVE_CLASSES.has(h.StorageClass ?? '') && !h.ArchiveStatus)) return undefined;
  const restore = h.Restore ?? '';
  if (/ongoing-request="true"/.test(restore)) return { state: 'restoring', storageClass: cls };
  if (/ongoing-request="false"/.test(restore)) {
    const expiry = /expiry-date="([^"]+)"/.exec(restore)?.[1];
    const until = expiry ? new Date(expiry) : undefined;
    return {
      state: 'restored',
      storageClass: cls,
      until: until && !Number.isNaN(until.getTime()) ? until : undefined,
    };
  }
  return { state: 'archived', storageClass: cls };
}

/** RestoreObject: a temporary readable copy for `days`; a restore already in progress is not an error. */
export async function requestS3Restore(
  t: { client: S3Client; bucket: string; key: string; where: S3Where },
  tier: TierState,
  opts: RestoreRequestOptions,
): Promise<void> {
  // Intelligent-Tiering's archive tiers take no Days (the object moves back to its access tier).
  const intelligent = tier.storageClass.startsWith('INTELLIGENT_TIERING');
  try {
    await t.client.send(
      new RestoreObjectCommand({
        Bucket: t.bucket,
        Key: t.key,
        RestoreRequest: intelligent ? {} : { Days: opts.days, GlacierJobParameters: { Tier: opts.speed } },
      }),
      { abortSignal: opts.signal },
    );
  } catch (err) {
    if (errorCode(err) === 'RestoreAlreadyInProgress') return;
    throw s3Error(err, t.where, `RestoreObject s3://${t.bucket}/${t.key}`, opts.signal);
  }
}
