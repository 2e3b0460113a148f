import { mkdir, open, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { addAbortSignal } from 'node:stream';
import { DEFAULT_VOLUME_SIZE, type FilesystemStorage } from '../config/schema.ts';
import { AlreadyExistsError, NotFoundError, StorageError, UsageError } from '../errors.ts';
import { mtimeOf, walkFiles } from './fs-walk.ts';
import { walkInThread } from './fs-walk-thread.ts';
import { fsError, writeAtomically } from './fs-write.ts';
import { checkKey, TEMP_PREFIX } from './keys.ts';
import type { StorageDeps } from './registry.ts';
import type { IncompleteUpload, ObjectInfo, Storage } from './storage.ts';

/**
 * A repository in a local directory (or a mounted NAS). Keys map to paths under `cfg.path`;
 * writes go through a temp file renamed into place, so readers never see a partial object.
 * Unfinished writes are the `.bo-tmp-*` files, reported by listIncomplete.
 */
export function createFsStorage(
  name: string,
  cfg: Omit<FilesystemStorage, 'volumeSize'> & { volumeSize?: number },
  deps: StorageDeps,
): Storage {
  const root = resolve(cfg.path);
  const pathOf = (key: string) => join(root, checkKey(key));
  async function statKey(key: string): Promise<ObjectInfo | undefined> {
    const path = pathOf(key);
    try {
      const st = await stat(path);
      return st.isFile() ? { key, size: st.size, lastModified: st.mtime } : undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw fsError(err, path);
    }
  }

  return {
    name,
    type: 'filesystem',
    location: root,
    lockable: false,
    volumeSize: cfg.volumeSize ?? DEFAULT_VOLUME_SIZE,

    async put(key, body, opts = {}) {
      let final = '';
      try {
        final = pathOf(key);
        // Fail fast; the hard link in writeAtomically is what makes create-only atomic.
        if (opts.ifNoneMatch && (await exists(final))) {
          throw new AlreadyExistsError(`${final} already exists`);
        }
        await mkdir(dirname(final), { recursive: true });
      } catch (err) {
        if (!Buffer.isBuffer(body)) body.destroy();
        throw fsError(err, final);
      }
      const { size, sha256 } = await writeAtomically(final, body, opts, deps.log);
      return { key, size, sha256 };
    },

    async get(key, opts = {}) {
      const path = pathOf(key);
      let fh: import('node:fs/promises').FileHandle;
      try {
        fh = await open(path, 'r');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${path} does not exist`);
        throw fsError(err, path);
      }
      const { size } = await fh.stat().catch(async (err: unknown) => {
        await fh.close();
        throw fsError(err, path);
      });
      let range: { start: number; end: number } | undefined;
      if (opts.range) {
        const { start, end } = opts.range;
        if (start < 0 || end < start || start >= size) {
          await fh.close();
          throw new StorageError(`${path}: range ${start}-${end} is outside the object (${size} bytes)`);
        }
        range = { start, end: Math.min(end, size - 1) };
      }
      const stream = fh.createReadStream(range ?? {});
      return opts.signal ? addAbortSignal(opts.signal, stream) : stream;
    },

    stat: statKey,

    async *list(prefix, opts = {}): AsyncGenerator<ObjectInfo> {
      const incomplete = opts.incomplete;
      const { signal } = opts;
      const files = opts.bulk ? walkInThread(root, prefix, signal) : walkFiles(root, prefix, { signal });
      try {
        for await (const f of files) {
          if (f.target === undefined) yield { key: f.key, size: f.size, lastModified: mtimeOf(f) };
          else incomplete?.uploads.push({ key: f.target, uploadId: f.key, initiated: mtimeOf(f) });
        }
        if (incomplete) incomplete.complete = true;
      } catch (err) {
        throw fsError(err, root);
      }
    },

    async delete(key) {
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw fsError(err, path);
      }
      await pruneEmptyDirs(root, dirname(path));
    },

    async *listIncomplete(prefix): AsyncGenerator<IncompleteUpload> {
      try {
        for await (const f of walkFiles(root, prefix, { tempOnly: true })) {
          if (f.target !== undefined) yield { key: f.target, uploadId: f.key, initiated: mtimeOf(f) };
        }
      } catch (err) {
        throw fsError(err, root);
      }
    },

    async abortIncomplete(upload) {
      const base = upload.uploadId.slice(upload.uploadId.lastIndexOf('/') + 1);
      if (!base.startsWith(TEMP_PREFIX)) {
        throw new UsageError(`"${upload.uploadId}" is not an incomplete upload of ${root}`);
      }
      // checkKey refuses temp names, so check the directory part and join the name ourselves.
      const dirKey = upload.uploadId.slice(0, Math.max(0, upload.uploadId.length - base.length - 1));
      const path = dirKey === '' ? join(root, base) : join(pathOf(dirKey), base);
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw fsError(err, path);
      });
    },

    async retention() {
      return undefined;
    },

    // A directory has no server to copy for it, and no archive tiers.
    async copyIn() {
      return undefined;
    },

    async requestRestore() {},

    /** No locks here (see the contract): the key must exist, nothing else happens. */
    async extendRetention(key) {
      if (!(await statKey(key))) throw new NotFoundError(`${pathOf(key)} does not exist`);
      return undefined;
    },

    async close() {},
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Removes directories emptied by a delete, up to (not including) the root. */
async function pruneEmptyDirs(root: string, dir: string): Promise<void> {
  for (let d = dir; d.startsWith(root + sep); d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return; // not empty (or already gone): stop climbing
    }
  }
}
