/**
 * `bo restore --resume`: an interrupted local restore continues where it stopped. Every regular
 * file the restore selects that is already in the target, as a regular file reached through real
 * directories only, with the size and SHA-256 the index records, is kept: it is not read from
 * storage again, only its owner, mode and mtime (and later its attributes) are set from the
 * index. Everything else is restored as usual. What a killed restore left half-written (its
 * `.bo-partial-*` temporary files, never under a real name) is removed first.
 */
import { createHash } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import type { EntryAttrs } from '../archive/attrs.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import { ancestors, ROOT } from '../archive/tar-path.ts';

const { O_RDONLY, O_NOFOLLOW } = constants;
/** Files hashed at once. */
const PARALLEL = 4;

export interface Kept {
  /** Files kept as they are (not read again). */
  paths: Set<string>;
  bytes: number;
  /** Directories already there: not read again; their metadata is set once the files are in. */
  dirs: IndexEntry[];
  /** Temporary files of the interrupted run, removed. */
  removed: number;
}

export async function keepRestored(
  dir: string,
  wanted: ReadonlyMap<string, IndexEntry>,
  opts: { asRoot: boolean; signal: AbortSignal },
): Promise<Kept> {
  const kept: Kept = { paths: new Set(), bytes: 0, dirs: [], removed: 0 };
  const abs = (rel: string) => (rel === ROOT ? dir : `${dir}/${rel}`);
  const realDir = new Map<string, Promise<boolean>>();
  const isRealDir = (rel: string) => {
    let p = realDir.get(rel);
    if (!p) {
      p = fsp.lstat(abs(rel)).then(
        (st) => st.isDirectory(),
        () => false,
      );
      realDir.set(rel, p);
    }
    return p;
  };
  // Leftovers of the interrupted run, in every directory the restore writes to.
  const dirs = new Set<string>();
  for (const e of wanted.values()) dirs.add(e.type === 'dir' ? e.path : (ancestors(e.path).at(-1) ?? ROOT));
  for (const d of dirs) {
    if (!(await isRealDir(d)) || !(await everyReal(d))) continue;
    for (const name of await fsp.readdir(abs(d)).catch(() => [])) {
      if (!name.startsWith('.bo-partial-')) continue;
      const rel = d === ROOT ? name : `${d}/${name}`;
      if ((await fsp.lstat(abs(rel)).catch(() => undefined))?.isFile()) {
        await fsp.unlink(abs(rel));
        kept.removed++;
      }
    }
  }
  async function everyReal(rel: string): Promise<boolean> {
    for (const a of ancestors(rel)) if (!(await isRealDir(a))) return false;
    return true;
  }

  // An entry whose attributes the index lists without their values (before format 4) is
  // restored again: what the interrupted run applied of them cannot be known.
  const keepable = (e: IndexEntry) => !e.xattrs?.length || e.attrs !== undefined || e.acl !== undefined;
  for (const e of wanted.values())
    if (
      e.type === 'dir' &&
      e.path !== ROOT &&
      keepable(e) &&
      (await isRealDir(e.path)) &&
      (await everyReal(e.path))
    )
      kept.dirs.push(e);
  const files = [...wanted.values()].filter((e) => e.type === 'file' && e.sha256 && keepable(e));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      opts.signal.throwIfAborted();
      const e = files[next++]!;
      if (!(await everyReal(e.path))) continue;
      const st = await fsp.lstat(abs(e.path)).catch(() => undefined);
      if (!st?.isFile() || st.size !== e.size) continue;
      if ((await sha256Of(abs(e.path))) !== e.sha256) continue;
      await setMeta(abs(e.path), e, opts.asRoot);
      kept.paths.add(e.path);
      kept.bytes += e.size;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return kept;
}

/** The attributes the index records for a kept entry (format 4), for attrs.ts. */
export function indexAttrs(e: IndexEntry): EntryAttrs | undefined {
  if (!e.attrs && !e.acl) return undefined;
  return {
    xattrs: Object.entries(e.attrs ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')] as const),
    acl: e.acl,
  };
}

async function sha256Of(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    const fh = await fsp.open(path, O_RDONLY | O_NOFOLLOW);
    for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}

/** Owner (root), mode and times as the index has them, through a descriptor that follows no link. */
async function setMeta(
  path: string,
  e: IndexEntry,
  asRoot: boolean,
  flags = O_RDONLY | O_NOFOLLOW,
): Promise<void> {
  const fh = await fsp.open(path, flags).catch(() => undefined);
  if (!fh) return;
  try {
    if (asRoot) await fh.chown(e.uid, e.gid);
    await fh.chmod(e.mode);
    await fh.utimes(e.mtime, e.mtime);
  } finally {
    await fh.close();
  }
}

/** The kept directories' owner, mode and times from the index, deepest first, once the files are in. */
export async function finishKeptDirs(dir: string, kept: Kept, asRoot: boolean): Promise<void> {
  const dirs = [...kept.dirs].sort((a, b) => b.path.split('/').length - a.path.split('/').length);
  for (const e of dirs)
    await setMeta(`${dir}/${e.path}`, e, asRoot, O_RDONLY | O_NOFOLLOW | constants.O_DIRECTORY);
}
