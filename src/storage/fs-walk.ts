import { type Dirent, opendirSync, readdirSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { throwIfAborted } from '../errors.ts';
import { checkKey, compareKeys, TEMP_PREFIX } from './keys.ts';

export interface WalkEntry {
  /** Key of the file itself (for a temp file: the key of its temp name). */
  key: string;
  path: string;
  /** For a temp file, the key it was going to be renamed to. */
  target?: string;
}

/**
 * Every regular file under `root` whose key could start with `prefix`, in lexical (UTF-8 byte)
 * key order. Only directories that can hold matching keys are read; a missing directory is an
 * empty listing, any other error throws.
 *
 * Directories are read with synchronous calls, a slice of at most SLICE_MS at a time before the
 * event loop gets a turn: a job of 200,000 backups is 200,000 directories, and each asynchronous
 * readdir or stat costs a round trip through libuv's thread pool (16 s for a fleet's history
 * one after another, 6 s 32 at a time on two cores, 2.3 s synchronously). The price: one call
 * that hangs (a dead NAS mount) holds the process for as long as it hangs.
 */
export async function* walk(root: string, prefix: string, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  const slash = prefix.lastIndexOf('/');
  const startKey = slash >= 0 ? prefix.slice(0, slash) : '';
  if (startKey !== '') checkKey(startKey);
  yield* walkDir(startKey === '' ? root : join(root, startKey), startKey, prefix, signal, pacer());
}

/** At most this long on the event loop between two turns it gives to everything else. */
const SLICE_MS = 10;

/** Call between units of synchronous work: gives the event loop a turn once a slice is used up. */
export function pacer(): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < SLICE_MS) return undefined;
    return nextTurn().then(() => {
      since = performance.now();
    });
  };
}

/** The file's stats, or undefined when it is gone (deleted or renamed since it was listed). */
export function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    // Deleted or renamed between readdir and stat: a concurrent writer, not an error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function* walkDir(
  dir: string,
  dirKey: string,
  prefix: string,
  signal: AbortSignal | undefined,
  pace: () => Promise<void> | undefined,
): AsyncGenerator<WalkEntry> {
  throwIfAborted(signal);
  const base = dirKey === '' ? '' : `${dirKey}/`;
  // What the names here must start with for their keys to start with `prefix`.
  const rest = prefix.length > base.length ? prefix.slice(base.length) : '';
  const names = readNames(dir, rest);
  for (const s of names) {
    await pace(); // the caller's work on the previous entry (a stat) counts too
    const isDir = s.endsWith('/');
    const name = isDir ? s.slice(0, -1) : s;
    const path = join(dir, name);
    if (isDir) yield* walkDir(path, base + name, prefix, signal, pace);
    else if (name.startsWith(TEMP_PREFIX)) {
      const target = tempTarget(dirKey, name);
      if (target?.startsWith(prefix)) yield { key: base + name, path, target };
    } else yield { key: base + name, path };
  }
}

/**
 * The names in `dir` that can hold keys starting with `rest` (directories as "<name>/": that is
 * how they sort among their siblings, their keys all starting with it), in key order; temp files
 * all. Only names are kept: a job's folder has a directory per backup, 200,000 of them.
 */
function readNames(dir: string, rest: string): string[] {
  const names: string[] = [];
  const add = (e: Dirent) => {
    if (e.isDirectory()) {
      const s = `${e.name}/`;
      if (!e.name.startsWith(TEMP_PREFIX) && (s.startsWith(rest) || rest.startsWith(s))) names.push(s);
    } else if (e.isFile() && (e.name.startsWith(rest) || e.name.startsWith(TEMP_PREFIX))) names.push(e.name);
  };
  try {
    if (rest === '') {
      // Every name is kept: one call (opening a Dir costs more than a small folder's readdir).
      for (const e of readdirSync(dir, { withFileTypes: true })) add(e);
    } else {
      // Few names are kept (a day of a job's 200,000 backups): an entry at a time, never all at once.
      const d = opendirSync(dir, { bufferSize: 256 });
      try {
        for (let e = d.readSync(); e; e = d.readSync()) add(e);
      } finally {
        d.closeSync();
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  return names.sort(compareKeys);
}

/** `.bo-tmp-<random>-<name>` in `dirKey` → `dirKey/<name>`. */
function tempTarget(dirKey: string, name: string): string | undefined {
  const m = /^\.bo-tmp-[0-9a-f]+-(.+)$/.exec(name);
  if (!m?.[1]) return undefined;
  return dirKey === '' ? m[1] : `${dirKey}/${m[1]}`;
}
