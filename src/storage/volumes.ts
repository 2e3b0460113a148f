/**
 * The volume writer: stores a stream of unknown length as one or more objects of at most
 * `volumeSize` bytes each (storage/layout.ts names them), so no object ever outgrows what one
 * upload can hold (S3: 10,000 parts) and every upload uses parts sized for one volume, which
 * keeps memory flat whatever the total. The volumes concatenated in order are the stream.
 *
 *   body ─ cut at volumeSize ─▶ put(<name>) ─▶ put(<name>.00002) ─▶ …   (one at a time)
 *          └─ SHA-256 and size of the whole
 *
 * A failure or abort removes the volumes already stored (best effort: prune removes leftovers of
 * a killed process, which have no manifest) and leaves nothing at the one in progress.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { bodyChunks } from './body.ts';
import { folderOf, volumeName } from './layout.ts';
import type { PutOptions, PutResult, Storage } from './storage.ts';

export interface VolumesResult extends PutResult {
  /** Present when the stream took more than one volume; each volume's key relative to the folder of `key`. */
  volumes?: PutResult[];
}

export async function putVolumes(
  storage: Storage,
  key: string,
  body: Readable,
  opts: PutOptions & { log: Logger },
): Promise<VolumesResult> {
  const volumeSize = storage.volumeSize;
  const whole = createHash('sha256');
  let total = 0;
  const chunks = bodyChunks(body, opts.signal);
  let carry: Buffer | undefined;
  let ended = false;
  const stored: PutResult[] = [];

  /** The next volume's bytes: up to volumeSize, starting with what the previous one left over. */
  async function* volume(): AsyncGenerator<Buffer> {
    let left = volumeSize;
    while (left > 0) {
      let chunk = carry;
      carry = undefined;
      if (!chunk) {
        const r = await chunks.next();
        if (r.done) {
          ended = true;
          return;
        }
        chunk = r.value;
      }
      if (chunk.length > left) {
        carry = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.length;
      whole.update(chunk);
      total += chunk.length;
      yield chunk;
    }
  }

  try {
    for (let n = 1; ; n++) {
      const base = total;
      const r = await storage.put(volumeName(key, n), Readable.from(volume(), { objectMode: false }), {
        ...opts,
        sizeHint: volumeSize,
        onProgress: (bytes) => opts.onProgress?.(base + bytes),
      });
      stored.push(r);
      if (ended) break;
      // Full volume: is there more? An empty next volume is never written.
      if (!carry) {
        let next = await chunks.next();
        while (!next.done && next.value.length === 0) next = await chunks.next();
        if (next.done) break;
        carry = next.value;
      }
    }
  } catch (err) {
    if (!body.destroyed) body.destroy();
    for (const v of stored) await removeQuietly(storage, v.key, opts.log);
    throw err;
  } finally {
    await chunks.return(undefined).catch(() => {});
  }
  const result: VolumesResult = { key, size: total, sha256: whole.digest('hex') };
  if (stored.length > 1) {
    const folder = folderOf(key);
    result.volumes = stored.map((v) => ({ ...v, key: v.key.slice(folder.length) }));
  }
  return result;
}

/**
 * After a failed run: deletes the further volumes (not the first, at `key`, which the caller
 * removes with the rest of what it stored) of objects that were stored completely. Best effort.
 */
export async function removeVolumes(storage: Storage, results: readonly VolumesResult[], log: Logger) {
  for (const r of results) {
    for (const v of r.volumes?.slice(1) ?? []) await removeQuietly(storage, folderOf(r.key) + v.key, log);
  }
}

async function removeQuietly(storage: Storage, key: string, log: Logger): Promise<void> {
  await storage
    .delete(key)
    .catch((e: unknown) =>
      log.warn({ key, err: errorMessage(e) }, 'Cannot remove volume of a failed upload'),
    );
}
