/**
 * Differences between backups, from their file indexes alone (pure): nothing is read from an
 * archive, since every regular file's SHA-256 is in the index.
 */
import type { IndexEntry } from '../archive/tar-index.ts';

/** What differs: `content` (type, size, SHA-256, link target) or only metadata. */
export type Change = 'content' | 'mode' | 'owner' | 'mtime' | 'xattrs';

export interface IndexDiff {
  added: IndexEntry[];
  removed: IndexEntry[];
  modified: Array<{ path: string; changes: Change[]; before: IndexEntry; after: IndexEntry }>;
}

/** What changed from `a` to `b`, paths in byte order. */
export function diffIndexes(a: readonly IndexEntry[], b: readonly IndexEntry[]): IndexDiff {
  const before = new Map(a.map((e) => [e.path, e]));
  const after = new Map(b.map((e) => [e.path, e]));
  const diff: IndexDiff = { added: [], removed: [], modified: [] };
  for (const e of b) {
    const old = before.get(e.path);
    if (!old) diff.added.push(e);
    else {
      const changes = changesOf(old, e);
      if (changes.length > 0) diff.modified.push({ path: e.path, changes, before: old, after: e });
    }
  }
  for (const e of a) if (!after.has(e.path)) diff.removed.push(e);
  const order = (x: { path: string }, y: { path: string }) =>
    Buffer.compare(Buffer.from(x.path), Buffer.from(y.path));
  diff.added.sort(order);
  diff.removed.sort(order);
  diff.modified.sort(order);
  return diff;
}

export function changesOf(a: IndexEntry, b: IndexEntry): Change[] {
  const out: Change[] = [];
  if (a.type !== b.type || a.size !== b.size || a.sha256 !== b.sha256 || a.linkpath !== b.linkpath)
    out.push('content');
  if (a.mode !== b.mode) out.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) out.push('owner');
  // Directories' mtimes change with every file added to them: only files' count.
  if (a.type !== 'dir' && a.mtime !== b.mtime) out.push('mtime');
  const attrs = (e: IndexEntry) => JSON.stringify([e.xattrs ?? [], e.attrs ?? {}, e.acl ?? {}]);
  if (attrs(a) !== attrs(b)) out.push('xattrs');
  return out;
}

/** One backup's version of a path, as `bo find` shows its history. */
export interface Version<B> {
  backup: B;
  entry: IndexEntry | undefined;
  /** new: first seen (or back after being gone); changed: other content; same; gone: not in this backup. */
  event: 'new' | 'changed' | 'same' | 'gone';
}

/**
 * The history of one path over backups in time order: each backup's entry for it (undefined
 * when the backup does not have it), with what happened to its content.
 */
export function pathHistory<B>(
  versions: ReadonlyArray<{ backup: B; entry: IndexEntry | undefined }>,
): Version<B>[] {
  let last: IndexEntry | undefined;
  const out: Version<B>[] = [];
  for (const { backup, entry } of versions) {
    let event: Version<B>['event'];
    if (!entry) event = 'gone';
    else if (!last) event = 'new';
    else event = changesOf(last, entry).includes('content') ? 'changed' : 'same';
    out.push({ backup, entry, event });
    last = entry;
  }
  // Before its first appearance a path is not "gone": it did not exist yet.
  const first = out.findIndex((v) => v.entry);
  return first === -1 ? [] : out.slice(first);
}
