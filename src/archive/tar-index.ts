/**
 * The file index: one JSON line per archive entry, with the SHA-256 of every regular file's real
 * content. Built while the tar stream passes through bo, entry by entry (never accumulated), so
 * memory stays flat for millions of files.
 *
 * Line format (stable, documented in README "Storage layout"): a JSON object with the keys of
 * IndexEntry in this order; absent optional keys are omitted, e.g.
 *   {"path":"srv/share/a.txt","type":"file","size":5,"mode":420,"uid":0,"gid":0,"uname":"root",
 *    "gname":"root","mtime":1000000000,"sha256":"…"}
 */
import { Writable } from 'node:stream';
import { z } from 'zod';
import { CancelledError, IntegrityError } from '../errors.ts';
import { noteStreamed } from './buffer-gc.ts';
import { createEntryHasher } from './tar-hash.ts';
import { TarReader } from './tar-reader.ts';

export const IndexEntry = z.object({
  /** Member name, normalised: `srv/share/a.txt`, no leading `/` or `./`, no trailing `/`; `.` is the root. */
  path: z.string(),
  type: z.enum(['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo']),
  /** Content bytes (the apparent size for sparse files); 0 for non-files. */
  size: z.number().int().nonnegative(),
  /** Permission bits including setuid/setgid/sticky (07777). */
  mode: z.number().int(),
  uid: z.number().int(),
  gid: z.number().int(),
  uname: z.string().optional(),
  gname: z.string().optional(),
  /** Seconds since the epoch (fractional). */
  mtime: z.number(),
  /** Symlink target text, or the member a hardlink points to (normalised). */
  linkpath: z.string().optional(),
  /** Regular files: SHA-256 (hex) of the real content, holes of sparse files as zeros. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  sparse: z.literal(true).optional(),
  /** Extended attribute names stored for the entry (ACLs as system.posix_acl_*). */
  xattrs: z.array(z.string()).optional(),
  /** The name is not valid UTF-8 and is shown with U+FFFD: restore it with the server's tar. */
  nonUtf8: z.literal(true).optional(),
  /**
   * Directories of incremental archives: GNU tar's dumpdir records for the directory (flag + name:
   * Y archived here, N unchanged and held by an earlier backup, D a subdirectory; R/T renames, X a
   * temporary directory). See archive/tar-dumpdir.ts.
   */
  dumpdir: z.array(z.string()).optional(),
  /**
   * Seekable archives (format version 4): where the entry's headers start: the offset in the
   * compressed stream (before age encryption) of the zstd frame that holds them, and their offset
   * T in the tar stream, which is in frame ⌊T / frameSize⌋ at position T mod frameSize inside it
   * (manifest `seekable.frameSize`). Uncompressed archives: [T, T].
   */
  at: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).optional(),
  /**
   * Format version 4: the values of the extended attributes (name → base64), binary POSIX ACLs
   * (system.posix_acl_*) and file capabilities (security.capability) included, so a restore can
   * apply them to files it keeps (--resume) and bo diff can tell when they changed.
   */
  attrs: z.record(z.string(), z.string()).optional(),
  /** Format version 4: POSIX ACLs in GNU tar's text form, when tar stored them that way. */
  acl: z.object({ access: z.string().optional(), default: z.string().optional() }).optional(),
});
export type IndexEntry = z.infer<typeof IndexEntry>;

export interface IndexStats {
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  /** Devices and fifos. */
  other: number;
  /** Content bytes of regular files (apparent sizes). */
  bytes: number;
  /** Bytes of the uncompressed tar stream. */
  tarBytes: number;
}

const KEYS = Object.keys(IndexEntry.shape) as Array<keyof IndexEntry>;

/** One index line, without the trailing newline. */
export function indexLine(e: IndexEntry): string {
  const ordered: Record<string, unknown> = {};
  for (const k of KEYS) if (e[k] !== undefined) ordered[k] = e[k];
  return JSON.stringify(ordered);
}

/** Parses one index line (a trailing newline is allowed); IntegrityError when it is not one. */
export function parseIndexLine(line: string): IndexEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new IntegrityError(`invalid index line: ${line.slice(0, 200)}`);
  }
  const r = IndexEntry.safeParse(raw);
  if (!r.success) throw new IntegrityError(`invalid index line: ${line.slice(0, 200)}`);
  return r.data;
}

/**
 * Consumes raw (uncompressed) tar bytes and calls `onEntry` for each entry as soon as it is
 * complete. `done` resolves with the totals once the archive's end-of-archive marker has been
 * read and the writable finished; it rejects on malformed or truncated input, on an exception
 * thrown by `onEntry`, and with CancelledError when `signal` aborts.
 */
export function createTarIndexer(opts: {
  /** Each entry when complete, with the stream offset where its headers start. */
  onEntry: (e: IndexEntry, offset: number) => void;
  /** Content bytes as they pass (for progress; holes of sparse files are not seen). */
  onContent?: ((bytes: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}): {
  writable: Writable;
  done: Promise<IndexStats>;
} {
  const reader = new TarReader();
  const stats: IndexStats = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, other: 0, bytes: 0, tarBytes: 0 };
  const push = createEntryHasher((e, offset) => {
    if (e.type === 'file') {
      stats.files++;
      stats.bytes += e.size;
    } else if (e.type === 'dir') stats.dirs++;
    else if (e.type === 'symlink') stats.symlinks++;
    else if (e.type === 'hardlink') stats.hardlinks++;
    else stats.other++;
    opts.onEntry(e, offset);
  });
  const { promise: done, resolve, reject } = Promise.withResolvers<IndexStats>();
  done.catch(() => {});

  const writable = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      noteStreamed(chunk.length);
      try {
        for (const ev of reader.write(chunk)) {
          if (ev.type === 'data') opts.onContent?.(ev.data.length);
          push(ev);
        }
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    final(cb) {
      try {
        reader.end();
        stats.tarBytes = reader.position;
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  writable.on('finish', () => resolve(stats));
  writable.on('error', reject);
  writable.on('close', () => reject(new IntegrityError('tar stream closed before its end')));

  const signal = opts.signal;
  if (signal) {
    const onAbort = () => writable.destroy(new CancelledError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    done.then(
      () => signal.removeEventListener('abort', onAbort),
      () => signal.removeEventListener('abort', onAbort),
    );
  }
  return { writable, done };
}
