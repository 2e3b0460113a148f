/**
 * Safe local extraction of a raw (uncompressed) tar stream into a directory. Built on our own
 * TarReader rather than node-tar's Unpack: Unpack warns and skips on most problems (and in
 * strict mode still leaves policy such as symlink handling to its own rules), while a restore
 * must stop at the first entry it refuses, name it, and never write through a symlink. See
 * tar-reader.ts for why node-tar's Parser is not used either.
 *
 * Restored: content (sparse files stay sparse: holes are never written, the size is set with
 * ftruncate), modes including setuid/setgid/sticky, numeric uid/gid when `preserveOwner`,
 * mtimes of files, directories (applied at the end, deepest first) and symlinks, hardlinks as
 * links, fifos (with mkfifo(1)), device nodes when running as root (with mknod(1); otherwise
 * skipped and listed in `warnings`). Extended attributes, ACLs and capabilities are collected in
 * `attrs` for the caller to apply once everything else is in place (attrs.ts).
 *
 * Files are written under a temporary name and get their real name only once their content
 * matched the index (see tar-fs.ts): a failed restore leaves no partly written file behind.
 *
 * Refused (IntegrityError/BoError naming the entry; extraction stops): absolute names, `..`,
 * empty names, writes through symlinks (archive or pre-existing), hardlinks to anything this run
 * did not extract, file content whose SHA-256 differs from the index (`expect`), entries the
 * index does not list, malformed or truncated archives.
 */

import type { FileHandle } from 'node:fs/promises';
import { realpath, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BoError, CancelledError, IntegrityError, throwIfAborted } from '../errors.ts';
import type { EntryAttrs } from './attrs.ts';
import { SafeTree } from './tar-fs.ts';
import { ContentHash } from './tar-hash.ts';
import type { IndexEntry } from './tar-index.ts';
import { isSelected, normalizeMember, ROOT } from './tar-path.ts';
import { type TarEntry, type TarEvent, TarReader } from './tar-reader.ts';
import { BackgroundTasks } from './tar-tasks.ts';

export interface ExtractOptions {
  signal?: AbortSignal | undefined;
  /** Archive paths (`srv/share`, leading `/` allowed) to restore with everything below them; default all. */
  include?: string[] | undefined;
  /** Restore numeric uid/gid; default: when running as root. */
  preserveOwner?: boolean | undefined;
  /** The index entry for a member: every extracted entry must have one of the same type, files the same SHA-256. */
  expect?: ((path: string) => IndexEntry | undefined) | undefined;
  /** Called after each entry is in place, with its type and content bytes. */
  onEntry?: ((path: string, bytes: number, type: TarEntry['type']) => void) | undefined;
  /** Called as content bytes of selected files are read (for progress). */
  onData?: ((bytes: number) => void) | undefined;
  /**
   * Paths already in the target as they must be (restore --resume): not written again, and
   * valid hardlink targets.
   */
  kept?: ReadonlySet<string> | undefined;
}

export interface ExtractStats {
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  fifos: number;
  devices: number;
  /** Content bytes written (apparent sizes). */
  bytes: number;
  /** Entries not restored (device nodes unless root, fifos without mkfifo), one message each. */
  warnings: string[];
  /** Extended attributes and ACLs of the entries restored, by path, for attrs.ts to apply. */
  attrs: Map<string, EntryAttrs>;
}

interface OpenFile {
  rel: string;
  entry: TarEntry;
  fh: FileHandle;
  /** Where the content is written until `commitFile` renames it onto `rel`. */
  temp: string;
  chown: boolean;
  /** Only when verifying against the index. */
  hash: ContentHash | undefined;
  sha256: string | undefined;
  /** This file's writes, one after the other, running while parsing goes on. */
  writing: Promise<unknown>;
}

/** Background work allowed in flight: files being finished, and bytes queued for writing. */
const MAX_TASKS = 64;
const MAX_QUEUED = 32 * 1024 * 1024;

export async function extractTar(
  source: Readable,
  targetDir: string,
  opts: ExtractOptions = {},
): Promise<ExtractStats> {
  const { signal } = opts;
  throwIfAborted(signal);
  const root = await realpath(targetDir);
  const setgid = ((await stat(root)).mode & 0o2000) !== 0;
  const tree = new SafeTree(root, opts.preserveOwner ?? process.getuid?.() === 0, setgid);
  for (const rel of opts.kept ?? []) tree.markMade(rel);
  const include = (opts.include ?? []).map((p) =>
    normalizeMember(p.replace(/^\/+/, '') || ROOT, 'include path'),
  );
  const stats: ExtractStats = {
    files: 0,
    dirs: 0,
    symlinks: 0,
    hardlinks: 0,
    fifos: 0,
    devices: 0,
    bytes: 0,
    warnings: [],
    attrs: new Map(),
  };
  const reader = new TarReader();
  const tasks = new BackgroundTasks();
  let file: OpenFile | undefined;
  let selected = false;

  async function onEntry(e: TarEntry): Promise<void> {
    const rel = normalizeMember(e.path);
    if (rel === ROOT && e.type !== 'dir') {
      throw new IntegrityError(`refusing ${e.type} entry for the archive root`);
    }
    selected = rel !== ROOT && isSelected(rel, include) && !opts.kept?.has(rel);
    if (!selected) return;
    if (e.nonUtf8) {
      throw new BoError(`cannot restore ${JSON.stringify(e.path)} locally: its name is not valid UTF-8`, {
        hint: 'restore onto a server with --to-host: its tar keeps names byte for byte',
      });
    }
    const expected = opts.expect?.(rel);
    if (opts.expect && expected?.type !== e.type) {
      const as = expected ? ` (the index has a ${expected.type})` : '';
      throw new IntegrityError(`archive entry ${rel} (${e.type}) is not in the index${as}`);
    }
    const done = (bytes: number) => opts.onEntry?.(rel, bytes, e.type);
    // A hardlink shares its target's inode, and with it the target's attributes.
    if ((e.attrs || e.acl) && e.type !== 'hardlink')
      stats.attrs.set(rel, { xattrs: e.attrs ?? [], acl: e.acl });
    switch (e.type) {
      case 'file': {
        const { fh, chown, temp } = await tree.createFile(rel, e);
        file = {
          rel,
          entry: e,
          fh,
          temp,
          chown,
          hash: opts.expect ? new ContentHash() : undefined,
          sha256: expected?.sha256,
          writing: Promise.resolve(),
        };
        return;
      }
      case 'dir':
        await tree.mkdir(rel, e);
        stats.dirs++;
        return done(0);
      case 'symlink':
        await tree.symlink(rel, e.linkpath!, e);
        stats.symlinks++;
        return done(0);
      case 'hardlink':
        await tree.hardlink(rel, normalizeMember(e.linkpath!, 'hardlink target'));
        stats.hardlinks++;
        return done(0);
      case 'fifo':
        if (await tree.fifo(rel, e)) {
          stats.fifos++;
          return done(0);
        }
        stats.warnings.push(`${rel}: fifo not restored (mkfifo is not available)`);
        return;
      default:
        if (await tree.device(rel, e)) {
          stats.devices++;
          return done(0);
        }
        stats.warnings.push(
          `${rel}: ${e.type} device ${e.devmajor},${e.devminor} not restored (device nodes need root and mknod)`,
        );
    }
  }

  async function onData(f: OpenFile, data: Buffer, offset: number): Promise<void> {
    tasks.bytes += data.length;
    f.writing = f.writing
      .then(() => f.fh.write(data, 0, data.length, offset))
      .finally(() => {
        tasks.bytes -= data.length;
      });
    f.writing.catch(() => {}); // reported by the task that finishes the file
    f.hash?.update(data, offset);
    opts.onData?.(data.length);
    if (tasks.bytes > MAX_QUEUED) {
      await f.writing.catch(() => {});
      await tasks.throttle(MAX_TASKS, MAX_QUEUED);
    }
  }

  async function onFileEnd(f: OpenFile): Promise<void> {
    file = undefined;
    const { entry, fh } = f;
    const actual = f.hash?.digest(entry.size);
    const matches = !f.hash || actual === f.sha256;
    const finished = Promise.withResolvers<boolean>();
    const committed = tree.commitFile(f.rel, f.temp, finished.promise);
    tasks.run(async () => {
      try {
        await f.writing;
        if (matches) {
          if (entry.sparse) await fh.truncate(entry.size);
          await tree.finishFile(fh, entry, f.chown);
        }
      } catch (err) {
        finished.resolve(false);
        throw err;
      } finally {
        await fh.close().catch(() => {});
      }
      finished.resolve(matches);
      await committed;
    });
    if (!matches) {
      throw new IntegrityError(
        `content of ${f.rel} does not match the index (SHA-256 ${actual}, index ${f.sha256})`,
      );
    }
    stats.files++;
    stats.bytes += entry.size;
    opts.onEntry?.(f.rel, entry.size, 'file');
    await tasks.throttle(MAX_TASKS, MAX_QUEUED);
  }

  async function handle(ev: TarEvent): Promise<void> {
    if (ev.type === 'entry') await onEntry(ev.entry);
    else if (!selected || !file) return;
    else if (ev.type === 'data') await onData(file, ev.data, ev.offset);
    else await onFileEnd(file);
  }

  const onAbort = () => source.destroy(new CancelledError());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of source) {
      throwIfAborted(signal);
      tasks.check();
      for (const ev of reader.write(chunk as Buffer)) await handle(ev);
    }
    reader.end();
    await tasks.drain();
    await tree.finishDirs();
    return stats;
  } catch (err) {
    if (signal?.aborted) throw new CancelledError();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (file) {
      const { writing, fh, temp } = file;
      tasks.run(() =>
        writing
          .catch(() => {})
          .then(() => fh.close())
          .finally(() => tree.discard(temp)),
      );
    }
    await tasks.settle();
  }
}
