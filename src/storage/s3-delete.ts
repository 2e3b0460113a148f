import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type S3Where, s3Error } from './s3-errors.ts';

/** One object: `key` is the full key, storage prefix included. */
export interface S3Object {
  client: S3Client;
  bucket: string;
  key: string;
  where: S3Where;
}

/**
 * Deletes `o.key` so that it frees space in a versioned (or suspended) bucket too, where a delete
 * without a version id only adds a delete marker and keeps the data, billed. `version`:
 * - `{ id, all: true }`: every version, `id` being the current one as HEAD saw it; older ones
 *   go first, the current one last, so a failure never uncovers an older copy;
 * - `{ id }`: just that version (the one a failed put made; what it replaced becomes current);
 * - `{ id: undefined }`: no version known (an unversioned bucket): a plain delete.
 */
export async function deleteS3Object(
  o: S3Object,
  version: { id: string | undefined; all?: boolean },
  signal?: AbortSignal,
): Promise<void> {
  const ids = version.id && version.all ? await versionsOf(o, version.id, signal) : [version.id];
  for (const VersionId of ids) {
    try {
      await o.client.send(
        new DeleteObjectCommand({ Bucket: o.bucket, Key: o.key, ...(VersionId ? { VersionId } : {}) }),
        { abortSignal: signal },
      );
    } catch (err) {
      const what = `DeleteObject s3://${o.bucket}/${o.key}${VersionId ? ` version ${VersionId}` : ''}`;
      throw s3Error(err, o.where, what, signal);
    }
  }
}

/** Version ids (and delete markers) of exactly `o.key`, the current one (`head`) last. */
async function versionsOf(o: S3Object, head: string, signal?: AbortSignal): Promise<string[]> {
  const older: string[] = [];
  const current: string[] = [];
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  for (;;) {
    let page: ListObjectVersionsCommandOutput;
    try {
      page = await o.client.send(
        new ListObjectVersionsCommand({
          Bucket: o.bucket,
          Prefix: o.key,
          KeyMarker: keyMarker,
          VersionIdMarker: idMarker,
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw s3Error(err, o.where, `ListObjectVersions s3://${o.bucket}/${o.key}`, signal);
    }
    for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
      if (v.Key !== o.key || !v.VersionId) continue;
      (v.IsLatest ? current : older).push(v.VersionId);
    }
    if (!page.IsTruncated || !page.NextKeyMarker) {
      if (!current.includes(head) && !older.includes(head)) current.push(head);
      return [...older, ...current];
    }
    keyMarker = page.NextKeyMarker;
    idMarker = page.NextVersionIdMarker;
  }
}
