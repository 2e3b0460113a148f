import { type Dirent, opendirSync, readdirSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { throwIfAborted } from '../errors.ts';
import { checkKey, compareKeys, TEMP_PREFIX } from './keys.ts';

interface WalkEntry {
  /** Key of the file itself (for a temp file: the key of its temp name). */
  key: string;
  path: string;
  /** For a temp file, the key it was going to be renamed to. */
  target?: string;
}

/** A file a walk found, with what its stat said. */
export interface WalkedFile {
  key: string;
  size: number;
  mtimeMs: number;
  /** For a temp file, the key it was going to be renamed to. */
  target?: string;
}

/**
 * Every regular file under `root` whose key could start with `prefix`, with its stat, in lexical
 * (UTF-8 byte) key order. Only directories that can hold matching keys are read; a missing
 * directory is an empty listing, any other error throws.
 *
 * Directories are read with synchronous calls, a slice of at most SLICE_MS at a time before the
 * event loop gets a turn: a job of 200,000 backups is 200,000 directories, and each asynchronous
 * readdir or stat costs a round trip through libuv's thread pool (16 s for a fleet's history
 * one after another, 6 s 32 at a time on two cores, 2.3 s synchronously). The price: one call
 * that hangs (a dead NAS mount) holds the process for as long as it hangs; a bulk listing walks
 * on a thread of its own instead (fs-walk-thread.ts).
 */
export async function* walkFiles(
  root: string,
  prefix: string,
  opts: { signal?: AbortSignal | undefined; tempOnly?: boolean } = {},
): AsyncGenerator<WalkedFile> {
  const pace = pacer();
  for (const f of walkFilesSync(root, prefix, opts.signal, opts.tempOnly)) {
    const turn = pace(); // the caller's work on the previous file counts too
    if (turn) await turn;
    if (f) yield f;
  }
}

/**
 * walkFiles' synchronous core (the walk thread runs it too): the same files, and `null` as it
 * enters each directory, so a caller can give the event loop its turns in a tree of empty
 * directories too. `tempOnly`: only the temp files (incomplete uploads), the others not stat'ed.
 */
export function* walkFilesSync(
  root: string,
  prefix: string,
  signal?: AbortSignal,
  tempOnly = false,
): Generator<WalkedFile | null> {
  for (const e of walkSync(root, prefix, signal)) {
    if (!e || (tempOnly && e.target === undefined)) {
      yield null;
      continue;
    }
    const st = statIfPresent(e.path);
    if (!st) continue;
    const f: WalkedFile = { key: e.key, size: st.size, mtimeMs: st.mtimeMs };
    if (e.target !== undefined) f.target = e.target;
    yield f;
  }
}

/** What Stats.mtime says of a walked file's mtimeMs. */
export function mtimeOf(f: WalkedFile): Date {
  return new Date(Math.round(f.mtimeMs));
}

/**
 * The files' paths and keys, and `null` as it enters each directory. One generator per
 * directory level and no promise per entry: a job's 200,000 folders otherwise cost kilobytes of
 * short-lived objects each.
 */
function* walkSync(root: string, prefix: string, signal?: AbortSignal): Generator<WalkEntry | null> {
  const startKey = walkStart(prefix);
  yield* walkDir(startKey === '' ? root : join(root, startKey), startKey, prefix, signal, true);
}

/** The directory key a walk of `prefix` starts in; throws UsageError for a prefix that escapes the root. */
export function walkStart(prefix: string): string {
  const slash = prefix.lastIndexOf('/');
  const startKey = slash >= 0 ? prefix.slice(0, slash) : '';
  if (startKey !== '') checkKey(startKey);
  return startKey;
}

/** At most this long on the event loop between two turns it gives to everything else. */
const SLICE_MS = 10;

/** Call between units of synchronous work: gives the event loop a turn once a slice is used up. */
function pacer(): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < SLICE_MS) return undefined;
    return nextTurn().then(() => {
      since = performance.now();
    });
  };
}

/** The file's stats, or undefined when it is gone (deleted or renamed since it was listed). */
function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    // Deleted or renamed between readdir and stat: a concurrent writer, not an error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function* walkDir(
  dir: string,
  dirKey: string,
  prefix: string,
  signal: AbortSignal | undefined,
  top = false,
): Generator<WalkEntry | null> {
  throwIfAborted(signal);
  yield null;
  const base = dirKey === '' ? '' : `${dirKey}/`;
  // What the names here must start with for their keys to start with `prefix`.
  const rest = prefix.length > base.length ? prefix.slice(base.length) : '';
  const { names, dirs } = readNames(dir, rest, top);
  // Names from readdir have no slashes and are never "." or "..": a plain join (path.join's
  // normalising was a quarter of a 200,000-folder walk's allocation).
  const sep = dir.endsWith('/') ? dir : `${dir}/`;
  for (let k = 0; k < names.length; k++) {
    const name = names[k]!;
    const path = sep + name;
    if (dirs[k]) yield* walkDir(path, base + name, prefix, signal);
    else if (name.startsWith(TEMP_PREFIX)) {
      const target = tempTarget(dirKey, name);
      if (target?.startsWith(prefix)) yield { key: base + name, path, target };
    } else yield { key: base + name, path };
  }
}

/**
 * The names in `dir` that can hold keys starting with `rest`, in key order (a directory sorts as
 * "<name>/" among its siblings: its keys all start with that), with which are directories; temp
 * files all. Only names are kept, as the Dirents have them: a job's folder has a directory per
 * backup, 200,000 of them.
 */
function readNames(dir: string, rest: string, top: boolean): { names: string[]; dirs: number[] } {
  const names: string[] = [];
  const isDir: number[] = [];
  const add = (e: Dirent) => {
    if (e.isDirectory()) {
      if (e.name.startsWith(TEMP_PREFIX)) return;
      // Its keys start with "<name>/": with `rest`, or `rest` with that.
      const n = e.name;
      const holds =
        rest.length > n.length ? rest.startsWith(n) && rest[n.length] === '/' : n.startsWith(rest);
      if (holds) {
        names.push(n);
        isDir.push(1);
      }
    } else if (e.isFile() && (e.name.startsWith(rest) || e.name.startsWith(TEMP_PREFIX))) {
      names.push(e.name);
      isDir.push(0);
    }
  };
  try {
    if (rest === '' && !top) {
      // Every name is kept: one call (opening a Dir costs more than a small folder's readdir).
      for (const e of readdirSync(dir, { withFileTypes: true })) add(e);
    } else {
      // Few names are kept (a day of a job's 200,000 backups), or the folder is the top one (a
      // job's, with a folder per backup): an entry at a time, never 200,000 Dirents at once.
      const d = opendirSync(dir, { bufferSize: 256 });
      try {
        for (let e = d.readSync(); e; e = d.readSync()) add(e);
      } finally {
        d.closeSync();
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { names: [], dirs: [] };
    throw err;
  }
  if (names.length < 2) return { names, dirs: isDir };
  return (names.length > 64 && sortedNatively(names, isDir)) || sortedByKeys(names, isDir);
}

function sortedByKeys(names: string[], isDir: number[]): { names: string[]; dirs: number[] } {
  const order = names
    .map((_, i) => i)
    .sort((a, b) => compareEntries(names[a]!, isDir[a]!, names[b]!, isDir[b]!));
  return { names: order.map((i) => names[i]!), dirs: order.map((i) => isDir[i]!) };
}

/**
 * A big folder's names (a job's, one per backup) in key order by the engine's own string sort,
 * ten times faster than a comparator: its order is key order when every name is ASCII and none
 * starts another (then a directory's "/" never decides). Undefined when that does not hold.
 */
function sortedNatively(names: string[], isDir: number[]): { names: string[]; dirs: number[] } | undefined {
  const files = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    if (!ASCII.test(names[i]!)) return undefined;
    if (!isDir[i]) files.add(names[i]!);
  }
  const sorted = [...names].sort();
  // If a name starts another, it starts the one right after it too (everything between them does).
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.startsWith(sorted[i - 1]!)) return undefined;
  return { names: sorted, dirs: sorted.map((n) => (files.has(n) ? 0 : 1)) };
}

/** compareKeys of two names, a directory's as "<name>/", without making those strings. */
function compareEntries(a: string, aDir: number, b: string, bDir: number): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return compareKeys(a, b);
  // One is the other's start: what follows it (a directory's "/", or nothing) decides.
  const x = a.length > n ? a.charCodeAt(n) : aDir ? 0x2f : -1;
  const y = b.length > n ? b.charCodeAt(n) : bDir ? 0x2f : -1;
  return x - y;
}

const ASCII = /^[\x00-\x7f]*$/;

/** `.bo-tmp-<random>-<name>` in `dirKey` → `dirKey/<name>`. */
function tempTarget(dirKey: string, name: string): string | undefined {
  const m = /^\.bo-tmp-[0-9a-f]+-(.+)$/.exec(name);
  if (!m?.[1]) return undefined;
  return dirKey === '' ? m[1] : `${dirKey}/${m[1]}`;
}
