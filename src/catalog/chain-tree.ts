/**
 * The tree an incremental chain restores to, computed from the chain's file indexes alone (no
 * archive is read). It replays what GNU tar does when the archives are extracted in order with
 * `--listed-incremental=/dev/null` (tar's incremen.c, `try_purge_directory`): for each directory
 * entry that carries a dumpdir and already exists, first the renames (R/T, X), then every child
 * the dumpdir does not list is deleted (and a listed `D` that is not a directory, or a `Y` that
 * is); then the entry is created or updated. Other entries replace whatever is at their name.
 *
 * Each node remembers which backup holds its content and under which member name, so a restore
 * takes every file from the archive that holds it, under the name it had there (a directory
 * renamed later moves its unchanged files with it). Archives without dumpdirs (plain fulls)
 * replay as a plain extraction.
 */
import { dumpdirNames } from '../archive/tar-dumpdir.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import { normalizeMember, ROOT } from '../archive/tar-path.ts';
import { IntegrityError } from '../errors.ts';

/** An entry of the restored tree, with where its content comes from. */
export interface ChainEntry extends IndexEntry {
  /** The backup whose archive holds the entry (for files: their content). */
  from: string;
  /** The entry's member name in that archive (differs from `path` after a directory rename). */
  member: string;
}

interface Node {
  name: string;
  parent: Node | undefined;
  children: Map<string, Node> | undefined;
  entry: IndexEntry | undefined;
  from: string;
  member: string;
  /** Hardlinks: the node holding the content. */
  link?: Node | undefined;
}

export interface ChainTree {
  /** The restored tree, parents before children, names in byte order within a directory. */
  entries(): ChainEntry[];
  /** Problems that make the chain unrestorable as recorded (e.g. an unchanged file no earlier backup holds). */
  problems: string[];
}

/**
 * Replays the indexes of a chain, full first. `indexes` yields each backup's id with its index
 * entries in archive order.
 */
export function replayChain(indexes: Iterable<{ id: string; entries: Iterable<IndexEntry> }>): ChainTree {
  const root: Node = dirNode(ROOT, undefined);
  const problems: string[] = [];
  for (const { id, entries } of indexes) {
    for (const e of entries) apply(root, id, e, problems);
  }
  return { entries: () => collect(root), problems };
}

function dirNode(name: string, parent: Node | undefined): Node {
  return { name, parent, children: new Map(), entry: undefined, from: '', member: '' };
}

function apply(root: Node, id: string, e: IndexEntry, problems: string[]): void {
  const path = e.path;
  if (e.type === 'dir') {
    const existing = lookup(root, path);
    if (e.dumpdir && existing?.children) {
      rename(root, e.dumpdir, path, problems);
      const dir = lookup(root, path);
      if (dir?.children) purge(dir, e.dumpdir);
    }
    const node = path === ROOT ? root : place(root, path, true);
    if (e.dumpdir) checkUnchanged(node, e.dumpdir, id, path, problems);
    const { dumpdir: _, ...entry } = e;
    node.entry = entry;
    node.from = id;
    node.member = path;
    return;
  }
  // A new file is a new inode: never reuse the node a hardlink may still point to.
  const parts = path.split('/');
  lookup(root, parts.slice(0, -1).join('/') || ROOT)?.children?.delete(parts[parts.length - 1]!);
  const node = place(root, path, false);
  node.entry = e;
  node.from = id;
  node.member = path;
  if (e.type === 'hardlink') {
    const target = lookup(root, e.linkpath ?? '');
    if (!target || target.children) {
      problems.push(`${id}: hardlink /${path} points to /${e.linkpath}, which the archive does not hold`);
    } else node.link = target.link ?? target;
  }
}

/** The node at `path`, or undefined. */
function lookup(root: Node, path: string): Node | undefined {
  if (path === ROOT) return root;
  let n: Node | undefined = root;
  for (const part of path.split('/')) {
    n = n?.children?.get(part);
    if (!n) return undefined;
  }
  return n;
}

/** The node for `path`, made (with missing parents) and replacing a node of the other kind. */
function place(root: Node, path: string, dir: boolean): Node {
  const parts = path.split('/');
  let n = root;
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const name = parts[i]!;
    let child = n.children!.get(name);
    if (!child || (!last && !child.children) || (last && Boolean(child.children) !== dir)) {
      child = last && !dir ? leaf(name, n) : dirNode(name, n);
      n.children!.set(name, child);
    }
    n = child;
  }
  return n;
}

function leaf(name: string, parent: Node): Node {
  return { name, parent, children: undefined, entry: undefined, from: '', member: '' };
}

/** The renames of a dumpdir, in order, as tar applies them before purging. */
function rename(root: Node, records: readonly string[], at: string, problems: string[]): void {
  let temp: Node | undefined;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r[0] === 'X') {
      temp = dirNode('', undefined);
      continue;
    }
    if (r[0] !== 'R') continue;
    const t = records[++i];
    if (t?.[0] !== 'T') {
      problems.push(`/${at}: malformed dumpdir (R without T)`);
      return;
    }
    const src = r.slice(1) === '' ? undefined : member(r.slice(1));
    const dst = t.slice(1) === '' ? undefined : member(t.slice(1));
    const node = src === undefined ? temp?.children?.get('') : lookup(root, src);
    if (!node || node === root) {
      problems.push(
        `/${at}: directory /${src ?? '(temporary)'} renamed to /${dst ?? '(temporary)'} is not in the chain`,
      );
      continue;
    }
    node.parent?.children?.delete(node.name);
    if (dst === undefined) {
      temp ??= dirNode('', undefined);
      node.name = '';
      node.parent = temp;
      temp.children!.set('', node);
      continue;
    }
    const parts = dst.split('/');
    const parent = parts.length === 1 ? root : place(root, parts.slice(0, -1).join('/'), true);
    node.name = parts[parts.length - 1]!;
    node.parent = parent;
    parent.children!.set(node.name, node);
  }
}

/** Deletes the children a dumpdir does not list, or lists as the other kind. */
function purge(dir: Node, records: readonly string[]): void {
  const names = dumpdirNames(records);
  for (const [name, child] of dir.children!) {
    const flag = names.get(name);
    if (!flag || (flag === 'D' && !child.children) || (flag === 'Y' && child.children)) {
      dir.children!.delete(name);
    }
  }
}

/** Files a dumpdir records as unchanged must be there from an earlier backup of the chain. */
function checkUnchanged(
  dir: Node,
  records: readonly string[],
  id: string,
  path: string,
  problems: string[],
): void {
  for (const [name, flag] of dumpdirNames(records)) {
    if (flag === 'N' && !dir.children!.has(name)) {
      const p = path === ROOT ? name : `${path}/${name}`;
      problems.push(`${id}: /${p} is recorded as unchanged, but no earlier backup in the chain holds it`);
    }
  }
}

/** A dumpdir rename's name (as tar saw it on disk, e.g. `srv/./d1`) as a member name. */
function member(name: string): string {
  try {
    return normalizeMember(name, 'rename');
  } catch (err) {
    throw new IntegrityError(`dumpdir rename ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
}

function pathOf(n: Node): string {
  const parts: string[] = [];
  for (let x: Node | undefined = n; x?.parent; x = x.parent) parts.push(x.name);
  return parts.length === 0 ? ROOT : parts.reverse().join('/');
}

function attached(n: Node, root: Node): boolean {
  let x: Node | undefined = n;
  while (x?.parent) x = x.parent;
  return x === root;
}

function collect(root: Node): ChainEntry[] {
  const out: ChainEntry[] = [];
  const walk = (n: Node) => {
    if (n.entry) out.push(entryOf(n, root));
    if (!n.children) return;
    const names = [...n.children.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) walk(n.children.get(name)!);
  };
  walk(root);
  return out;
}

function entryOf(n: Node, root: Node): ChainEntry {
  const path = pathOf(n);
  const t = n.link;
  if (!t) return { ...n.entry!, path, from: n.from, member: n.member };
  if (attached(t, root)) return { ...n.entry!, path, linkpath: pathOf(t), from: n.from, member: n.member };
  // The name the link pointed to is gone from the tree: the content stays, under this name.
  return { ...t.entry!, path, from: t.from, member: t.member };
}
