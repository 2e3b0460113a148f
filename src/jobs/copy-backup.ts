/**
 * Copies one committed backup from one storage to another, as stored: the objects' bytes
 * (ciphertext stays ciphertext), then the manifest, byte for byte, last.
 *
 *   source object ─┬─ server-side CopyObject (same endpoint and credentials) ─┐
 *                  └─ get ─ [upload limit] ─ put ─────────────────────────────┴─▶ checked against the
 *                                                                               manifest's size and SHA-256
 *                                                                               before it is visible
 *   … every volume of the archive, the index and the dumps … then manifest.json
 *
 * Nothing is decrypted and nothing is read from the server the backup came from. A source
 * object that differs from its manifest is never stored in the target. A copy that fails or is
 * killed leaves no manifest, so nothing that looks like a backup; its verified objects stay (S3
 * records their SHA-256 on them) and the next run keeps them instead of copying them again, after
 * aborting any multipart upload the dead run left in the backup's folder.
 */
import { buffer } from 'node:stream/consumers';
import type { BackupRef } from '../catalog/backups.ts';
import { storedVolumes, type Volume } from '../catalog/manifest.ts';
import { IntegrityError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { backupFolder, manifestKey, objectKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';

export interface CopiedBackup {
  id: string;
  /** Bytes of the objects copied now (not those kept from an earlier attempt). */
  bytes: number;
  objects: number;
  /** Objects the storage copied server-side. */
  serverSide: number;
  /** Objects an earlier, interrupted copy had already stored and verified. */
  kept: number;
}

export async function copyBackup(
  source: Storage,
  target: Storage,
  ref: BackupRef,
  opts: {
    signal: AbortSignal;
    log: Logger;
    onBytes?: ((bytes: number) => void) | undefined;
    /** Right before the manifest is written (an incremental's chain locks in the target). */
    beforeCommit?: (() => Promise<void>) | undefined;
  },
): Promise<CopiedBackup> {
  const { signal } = opts;
  const log = opts.log.child({ backupId: ref.id, from: source.name, to: target.name });
  // The manifest as stored: a copy is the same backup, so its commit point is the same bytes.
  const manifest = await buffer(await source.get(manifestKey(ref.job, ref.id), { signal }));
  for await (const upload of target.listIncomplete(backupFolder(ref.job, ref.id))) {
    log.info({ key: upload.key }, 'Aborting an upload an interrupted copy left');
    await target.abortIncomplete(upload);
  }
  const bulk = new Set(
    [ref.manifest.archive, ...ref.manifest.dumps.map((d) => d.object)].flatMap((o) =>
      (o.volumes ?? [o]).map((v) => v.key),
    ),
  );
  const result: CopiedBackup = { id: ref.id, bytes: 0, objects: 0, serverSide: 0, kept: 0 };
  let done = 0;
  for (const v of storedVolumes(ref.manifest)) {
    signal.throwIfAborted();
    const key = objectKey(ref, v.key);
    const how = await copyObject(source, target, key, v, {
      bulk: bulk.has(v.key),
      signal,
      onBytes: (n) => opts.onBytes?.(done + n),
    });
    if (how === 'kept') result.kept++;
    else {
      result.objects++;
      result.bytes += v.size;
      if (how === 'server-side') result.serverSide++;
    }
    done += v.size;
  }
  signal.throwIfAborted();
  await opts.beforeCommit?.();
  // The commit point, last: from here on the target holds the backup.
  await target.put(manifestKey(ref.job, ref.id), manifest, { signal, contentType: 'application/json' });
  log.info({ bytes: result.bytes, serverSide: result.serverSide, kept: result.kept }, 'Backup copied');
  return result;
}

async function copyObject(
  source: Storage,
  target: Storage,
  key: string,
  v: Volume,
  opts: { bulk: boolean; signal: AbortSignal; onBytes: (n: number) => void },
): Promise<'kept' | 'server-side' | 'streamed'> {
  const expect = { size: v.size, sha256: v.sha256 };
  const there = await target.stat(key);
  if (there && there.size === v.size && there.sha256 === v.sha256) return 'kept';
  try {
    if (await target.copyIn(source, key, key, { expect, bulk: opts.bulk, signal: opts.signal })) {
      opts.onBytes(v.size);
      return 'server-side';
    }
    const body = await source.get(key, { signal: opts.signal });
    await target.put(key, body, {
      expect,
      bulk: opts.bulk,
      sizeHint: v.size,
      signal: opts.signal,
      onProgress: opts.onBytes,
    });
    return 'streamed';
  } catch (err) {
    if (err instanceof IntegrityError) {
      throw new IntegrityError(
        `${source.name}:${key} does not match its manifest, so it was not copied to ${target.name}: ${err.message}`,
        { cause: err, hint: `check the source with \`bo verify\`; the backup stays uncopied` },
      );
    }
    if (err instanceof NotFoundError) {
      throw new NotFoundError(`${source.name}:${key} is gone (pruned meanwhile?): not copied`, {
        cause: err,
      });
    }
    throw err;
  }
}
