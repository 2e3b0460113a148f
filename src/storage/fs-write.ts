import { randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { AlreadyExistsError, BoError, IntegrityError, StorageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { bodyChunks, cancelledOr, checkExpected, createMeter } from './body.ts';
import { TEMP_PREFIX } from './keys.ts';
import type { PutOptions } from './storage.ts';

/**
 * Writes `body` to `final` atomically: a temp file `.bo-tmp-<random>-<name>` in the same
 * directory (O_EXCL), hashed while written, fsynced, size-checked, then renamed over `final`
 * (or hard-linked for create-only writes, which fails atomically with EEXIST) and the directory
 * fsynced. On any failure or abort the temp file is removed and nothing appears at `final`.
 */
export async function writeAtomically(
  final: string,
  body: Readable | Buffer,
  opts: PutOptions,
  log: Logger,
): Promise<{ size: number; sha256: string }> {
  const dir = dirname(final);
  const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${basename(final)}`);
  const meter = createMeter(opts.onProgress);
  let fh: FileHandle | undefined;
  // Errors raised by the body (its producer failed) pass through untouched; fs errors are mapped.
  let readingBody = false;
  try {
    fh = await openExclusive(tmp);
    readingBody = true;
    for await (const chunk of bodyChunks(body, opts.signal)) {
      readingBody = false;
      await writeAll(fh, chunk);
      meter.add(chunk);
      readingBody = true;
    }
    readingBody = false;
    await fh.sync();
    const { size } = await fh.stat();
    await fh.close();
    fh = undefined;
    if (size !== meter.bytes) {
      throw new IntegrityError(`${final}: wrote ${meter.bytes} bytes but the file holds ${size}`);
    }
    checkExpected(meter, opts.expect, final);
    if (opts.signal?.aborted) throw new Error('aborted before commit');
    await commit(tmp, final, opts.ifNoneMatch === true);
    await syncDir(dir);
    return { size: meter.bytes, sha256: meter.sha256() };
  } catch (err) {
    // Classify before destroying the body: that makes the producer abort, which must not turn
    // this failure into a cancellation.
    const e = cancelledOr(err, opts.signal);
    if (!Buffer.isBuffer(body)) body.destroy();
    await fh?.close().catch(() => {});
    await unlink(tmp).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') log.warn({ path: tmp, err: e.message }, 'Cannot remove temp file');
    });
    throw readingBody ? e : fsError(e, final);
  }
}

async function openExclusive(tmp: string): Promise<FileHandle> {
  try {
    return await open(tmp, 'wx', 0o644);
  } catch (err) {
    // A concurrent delete may have pruned the (then empty) directory: create it and retry once.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(tmp), { recursive: true });
    return await open(tmp, 'wx', 0o644);
  }
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  for (let off = 0; off < chunk.length; ) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

async function commit(tmp: string, final: string, createOnly: boolean): Promise<void> {
  if (!createOnly) {
    await rename(tmp, final);
    return;
  }
  try {
    await link(tmp, final);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AlreadyExistsError(`${final} already exists`, { cause: err });
    }
    throw err;
  }
  await unlink(tmp);
}

/** fsync the directory so the rename itself survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Errno failures become StorageError with a readable message; typed bo errors pass through. */
export function fsError(err: unknown, path: string): unknown {
  if (err instanceof BoError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const msg = (err as Error).message;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageError(`disk full: no space left to write ${path}`, { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StorageError(`cannot write ${path}: permission denied (${code})`, { cause: err });
    case undefined:
      return err;
    default:
      return new StorageError(`filesystem error on ${path}: ${msg}`, { cause: err });
  }
}
