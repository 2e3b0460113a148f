import { type Dirent, readdirSync, type Stats, statSync } from 'node:fs';
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
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw err;
  }
  // A directory's keys all start with "<name>/", so it sorts as "<name>/" among its siblings.
  const items = entries
    .filter((e) => e.isFile() || (e.isDirectory() && !e.name.startsWith(TEMP_PREFIX)))
    .map((e) => {
      const key = dirKey === '' ? e.name : `${dirKey}/${e.name}`;
      return { e, key, sortKey: e.isDirectory() ? `${key}/` : key };
    })
    .sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  for (const { e, key, sortKey } of items) {
    await pace(); // the caller's work on the previous entry (a stat) counts too
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (sortKey.startsWith(prefix) || prefix.startsWith(sortKey))
        yield* walkDir(path, key, prefix, signal, pace);
    } else if (e.name.startsWith(TEMP_PREFIX)) {
      const target = tempTarget(dirKey, e.name);
      if (target?.startsWith(prefix)) yield { key, path, target };
    } else if (key.startsWith(prefix)) {
      yield { key, path };
    }
  }
}

/** `.bo-tmp-<random>-<name>` in `dirKey` → `dirKey/<name>`. */
function tempTarget(dirKey: string, name: string): string | undefined {
  const m = /^\.bo-tmp-[0-9a-f]+-(.+)$/.exec(name);
  if (!m?.[1]) return undefined;
  return dirKey === '' ? m[1] : `${dirKey}/${m[1]}`;
}
