/**
 * The filesystem side of local extraction, confined to one directory. Nothing is ever written
 * through a symlink: every ancestor of every entry must be a real directory (checked with lstat,
 * cached for the run), whatever already sits at an entry's own path is removed without being
 * followed, and files are created with O_CREAT | O_EXCL | O_NOFOLLOW.
 *
 * Files are written under a temporary name in their directory (`.bo-partial-<pid>-<n>`) and
 * renamed onto their real name only once their content matched the index (`commitFile`), so a
 * failed restore never leaves a half-written file under a real name. The rename runs in the
 * background with the file's other finishing work; every later operation on that name, below it
 * or linking to it first waits for it (`#settle`, which `#parents` and `#clear` call themselves,
 * so no name operation can skip it), which keeps the name operations in archive order.
 *
 * Assumes no other process rearranges the target directory while the restore runs (the checks
 * are lstat-based: Node has no openat()).
 */
import { execFile } from 'node:child_process';
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { BoError, IntegrityError } from '../errors.ts';
import { ancestors, MemberSet, ROOT } from './tar-path.ts';
import type { TarEntry } from './tar-reader.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = constants;
const run = promisify(execFile);

type Meta = Pick<TarEntry, 'mode' | 'uid' | 'gid' | 'mtime' | 'atime'>;

export class SafeTree {
  readonly root: string;
  readonly #owner: boolean;
  readonly #umask = process.umask();
  /** Members known to be real directories (created or checked during this run). */
  readonly #dirs = new Set<string>([ROOT]);
  /** Non-directory members this run created: the only valid hardlink targets. */
  readonly #made = new MemberSet();
  readonly #dirMeta: Array<Meta & { rel: string; depth: number }> = [];
  /**
   * Directories whose new files get this process's uid/gid: created by this run (no setgid bit
   * until finishDirs) under such a directory. Lets `finishFile` skip a chown that changes nothing.
   */
  readonly #plain = new Set<string>();
  readonly #uid = process.geteuid?.() ?? -1;
  readonly #gid = process.getegid?.() ?? -1;
  /** Files whose rename onto their real name is still running (bounded by the extractor's tasks). */
  readonly #committing = new Map<string, Promise<void>>();
  #temps = 0;

  /** `rootSetgid`: the target directory has the setgid bit (its new entries inherit its group). */
  constructor(root: string, preserveOwner: boolean, rootSetgid: boolean) {
    this.root = root;
    this.#owner = preserveOwner;
    if (!rootSetgid) this.#plain.add(ROOT);
  }

  abs(rel: string): string {
    return rel === ROOT ? this.root : `${this.root}/${rel}`;
  }

  /**
   * Creates a regular file for writing under a fresh temporary name in its directory, with its
   * permission bits (special bits and the owner come with `finishFile`, the real name with
   * `commitFile`).
   */
  async createFile(rel: string, e: Meta): Promise<{ fh: FileHandle; chown: boolean; temp: string }> {
    if (rel === ROOT) throw new IntegrityError('refusing to replace the target directory itself');
    await this.#parents(rel, true);
    const dir = this.abs(parentOf(rel));
    const flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
    for (;;) {
      const temp = `${dir}/.bo-partial-${process.pid}-${++this.#temps}`;
      try {
        const fh = await fsp.open(temp, flags, e.mode & 0o777);
        const owned = this.#plain.has(parentOf(rel)) && e.uid === this.#uid && e.gid === this.#gid;
        return { fh, chown: this.#owner && !owned, temp };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // else a leftover: next name
      }
    }
  }

  /**
   * Renames a file onto its real name once `done` resolves true (false: removes it), replacing
   * (never following) what is there. Returns at once; later operations on the name wait for it.
   */
  commitFile(rel: string, temp: string, done: Promise<boolean>): Promise<void> {
    const commit = (async () => {
      if (!(await done)) {
        await this.discard(temp);
        return;
      }
      try {
        await fsp.rename(temp, this.abs(rel));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // A directory in the way: only an empty one is replaced. Not #clear: this commit is the
        // pending operation on `rel` its #settle would wait for.
        await this.#remove(rel, false);
        await fsp.rename(temp, this.abs(rel));
      }
      this.#made.add(rel);
    })();
    const tracked = commit
      .catch(async (err: unknown) => {
        await fsp.unlink(temp).catch(() => {});
        throw err;
      })
      .finally(() => {
        if (this.#committing.get(rel) === tracked) this.#committing.delete(rel);
      });
    tracked.catch(() => {}); // reported by the extractor's task
    this.#committing.set(rel, tracked);
    return tracked;
  }

  /** A file already in place (restore --resume): hardlinks may point to it. */
  markMade(rel: string): void {
    this.#made.add(rel);
  }

  /** Removes a temporary file that will not be committed. */
  async discard(temp: string): Promise<void> {
    await fsp.unlink(temp).catch(() => {});
  }

  /**
   * Owner (when `chown`), then mode (chown clears setuid/setgid; skipped when the create already
   * gave the right bits), times alongside: all through the descriptor.
   */
  async finishFile(fh: FileHandle, e: Meta, chown: boolean): Promise<void> {
    const chmod = (e.mode & ~0o777) !== 0 || (e.mode & this.#umask) !== 0;
    await Promise.all([
      (async () => {
        if (chown) await fh.chown(e.uid, e.gid);
        if (chmod) await fh.chmod(e.mode);
      })(),
      fh.utimes(e.atime ?? e.mtime, e.mtime),
    ]);
  }

  /** Creates (or keeps) a directory; its mode, owner and times are applied by `finishDirs`. */
  async mkdir(rel: string, e: Meta): Promise<void> {
    await this.#parents(rel, true);
    if (!(await this.#clear(rel, true))) await this.#mkdir(rel, 0o700);
    this.#dirs.add(rel);
    this.#dirMeta.push({
      rel,
      depth: ancestors(rel).length,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtime: e.mtime,
      atime: e.atime,
    });
  }

  async symlink(rel: string, target: string, e: Meta): Promise<void> {
    await this.#prepare(rel);
    const abs = this.abs(rel);
    await fsp.symlink(target, abs);
    this.#made.add(rel);
    if (this.#owner) await fsp.lchown(abs, e.uid, e.gid);
    await fsp.lutimes(abs, e.atime ?? e.mtime, e.mtime);
  }

  /** Links `rel` to `target`, which must be a non-directory this run extracted, reached without symlinks. */
  async hardlink(rel: string, target: string): Promise<void> {
    const refuse = (why: string) => new IntegrityError(`refusing hardlink ${rel} -> ${target}: ${why}`);
    if (target === rel || target === ROOT) throw refuse('it points to itself');
    await this.#parents(target, false, `hardlink ${rel} -> ${target}`); // settles `target` too
    const st = await fsp.lstat(this.abs(target)).catch(() => undefined);
    if (!st || !this.#made.has(target)) {
      throw new BoError(
        `cannot restore hardlink ${rel}: its target ${target} was not extracted by this restore`,
        {
          hint: `restore ${target} too (hardlinked files share their content with it)`,
        },
      );
    }
    if (st.isDirectory()) throw refuse('the target is a directory');
    await this.#prepare(rel);
    await fsp.link(this.abs(target), this.abs(rel));
    this.#made.add(rel);
  }

  /** Creates a fifo with mkfifo(1) (Node has no mkfifo); false when that is not possible. */
  async fifo(rel: string, e: Meta): Promise<boolean> {
    return await this.#special(rel, e, 'fifo', ['mkfifo', '-m', '600', '--', this.abs(rel)]);
  }

  /**
   * Creates a character or block device with mknod(1); false unless running as root (the only
   * case where the kernel allows it) with mknod available.
   */
  async device(rel: string, e: Meta & Pick<TarEntry, 'type' | 'devmajor' | 'devminor'>): Promise<boolean> {
    if (this.#uid !== 0) return false;
    const kind = e.type === 'char' ? 'c' : 'b';
    const args = ['mknod', '-m', '600', '--', this.abs(rel), kind, String(e.devmajor), String(e.devminor)];
    return await this.#special(rel, e, e.type === 'char' ? 'char' : 'block', args);
  }

  async #special(rel: string, e: Meta, kind: 'fifo' | 'char' | 'block', argv: string[]): Promise<boolean> {
    await this.#prepare(rel);
    const abs = this.abs(rel);
    try {
      await run(argv[0]!, argv.slice(1));
    } catch {
      return false;
    }
    const st = await fsp.lstat(abs);
    const ok = kind === 'fifo' ? st.isFIFO() : kind === 'char' ? st.isCharacterDevice() : st.isBlockDevice();
    if (!ok) throw new IntegrityError(`${rel} changed while it was being restored`);
    this.#made.add(rel);
    if (this.#owner) await fsp.lchown(abs, e.uid, e.gid);
    await fsp.chmod(abs, e.mode);
    await fsp.lutimes(abs, e.atime ?? e.mtime, e.mtime);
    return true;
  }

  /** Applies directory metadata, deepest first, through O_NOFOLLOW descriptors. */
  async finishDirs(): Promise<void> {
    const dirs = this.#dirMeta.sort((a, b) => b.depth - a.depth);
    for (const d of dirs) {
      let fh: FileHandle;
      try {
        fh = await fsp.open(this.abs(d.rel), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch {
        continue; // replaced by a later entry of the archive
      }
      try {
        if (this.#owner) await fh.chown(d.uid, d.gid);
        await fh.chmod(d.mode);
        await fh.utimes(d.atime ?? d.mtime, d.mtime);
      } finally {
        await fh.close();
      }
    }
  }

  async #prepare(rel: string): Promise<void> {
    if (rel === ROOT) throw new IntegrityError('refusing to replace the target directory itself');
    await this.#parents(rel, true);
    await this.#clear(rel, false);
  }

  /** Waits for pending renames onto `rel` or one of its ancestors (failures are the extractor's to report). */
  async #settle(rel: string): Promise<void> {
    if (this.#committing.size === 0) return;
    for (const p of [...ancestors(rel), rel]) {
      const pending = this.#committing.get(p);
      if (pending) await pending.catch(() => {});
    }
  }

  async #mkdir(rel: string, mode: number): Promise<void> {
    await fsp.mkdir(this.abs(rel), mode);
    if (this.#plain.has(parentOf(rel))) this.#plain.add(rel);
  }

  /**
   * Every ancestor of `rel` must be a real directory; missing ones are created when `create`.
   * First waits for pending renames onto `rel` and its ancestors.
   */
  async #parents(rel: string, create: boolean, entry = rel): Promise<void> {
    await this.#settle(rel);
    for (const dir of ancestors(rel)) {
      if (this.#dirs.has(dir)) continue;
      const st = await fsp.lstat(this.abs(dir)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (!st) {
        if (!create) throw new IntegrityError(`refusing archive entry ${entry}: ${dir} does not exist`);
        await this.#mkdir(dir, 0o755);
      } else if (!st.isDirectory()) {
        const what = st.isSymbolicLink() ? 'a symlink' : 'not a directory';
        throw new IntegrityError(
          `refusing archive entry ${entry}: ${dir} is ${what}, nothing is written through it`,
        );
      }
      this.#dirs.add(dir);
    }
  }

  /**
   * Removes what is at `rel` without following it, once pending renames onto it (or its
   * ancestors) are done; returns true when it is a directory kept (`keepDir`).
   */
  async #clear(rel: string, keepDir: boolean): Promise<boolean> {
    await this.#settle(rel);
    return await this.#remove(rel, keepDir);
  }

  /** #clear without waiting: only for the pending rename onto `rel` itself (`commitFile`). */
  async #remove(rel: string, keepDir: boolean): Promise<boolean> {
    const abs = this.abs(rel);
    const st = await fsp.lstat(abs).catch(() => undefined);
    if (!st) return false;
    if (!st.isDirectory()) {
      await fsp.unlink(abs);
      return false;
    }
    if (keepDir) return true;
    try {
      await fsp.rmdir(abs);
    } catch (err) {
      throw new BoError(`cannot restore ${rel}: a non-empty directory is in the way`, { cause: err });
    }
    this.#dirs.delete(rel);
    this.#plain.delete(rel);
    return false;
  }
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? ROOT : rel.slice(0, i);
}
