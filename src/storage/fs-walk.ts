import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
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
 */
export async function* walk(root: string, prefix: string, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  const slash = prefix.lastIndexOf('/');
  const startKey = slash >= 0 ? prefix.slice(0, slash) : '';
  if (startKey !== '') checkKey(startKey);
  yield* walkDir(startKey === '' ? root : join(root, startKey), startKey, prefix, signal);
}

async function* walkDir(
  dir: string,
  dirKey: string,
  prefix: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<WalkEntry> {
  throwIfAborted(signal);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
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
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (sortKey.startsWith(prefix) || prefix.startsWith(sortKey)) yield* walkDir(path, key, prefix, signal);
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
