/** What a repository holds, for a benchmark's "bytes stored": a directory's files, or a bucket's objects. */
import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** The apparent size of every file below `dir` (0 when it does not exist yet). */
export function dirBytes(dir: string): number {
  let n = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

/** The size of every object in a bucket. */
export async function bucketBytes(client: S3Client, bucket: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of r.Contents ?? []) n += o.Size ?? 0;
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return n;
}
