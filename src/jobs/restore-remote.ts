/**
 * Extraction onto a server with its own tar (`bo restore --to-host HOST:DIR`).
 *
 * GNU tar replaces a symlink that sits where the archive has an entry, but follows one that sits
 * at an intermediate directory of a member: with `DIR/tmp -> /elsewhere` (from an earlier restore,
 * or planted by someone who can write to DIR), restoring a backup of /tmp/x, which has no entry
 * for `tmp` itself, writes /elsewhere/x/… . The tar guard only sees the archive, so before tar
 * starts bo checks on the server that no directory the restore goes through exists there as a
 * symlink: every ancestor of every selected member, taken from the index. The guard then refuses
 * any archive entry the index does not list, so the check covered every member tar will write.
 * The rule is the local restore's: nothing is written through a symlink, wherever it points.
 *
 * Why a check rather than extracting into a fresh `mktemp -d` under DIR and moving into place:
 * merging a staged tree into a non-empty DIR walks the same existing directories, so every move
 * would need the same check, in shell, one process per file. Like the local extractor, this
 * assumes nobody rearranges DIR while the restore runs (tar has no openat-style confinement).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createTarGuard } from '../archive/tar-guard.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import { ancestors, normalizeMember, ROOT } from '../archive/tar-path.ts';
import { BoError, IntegrityError } from '../errors.ts';
import { shellQuote } from '../plan/shell.ts';
import { parseCaps, probeCommand, tarExtractCommand } from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import { collectTail } from '../remote/stderr-tail.ts';
import { allOrAbort } from './all-or-abort.ts';

export interface RemoteExtract {
  host: Host;
  dir: string;
  /** Members selected for restore (empty: everything). */
  include: string[];
  /** Index entries of the selected members. */
  wanted: Map<string, IndexEntry>;
  isSelected: (path: string) => boolean;
  onEntry: (e: IndexEntry) => void;
  onData: (bytes: number) => void;
  signal: AbortSignal;
  abort: () => void;
}

export async function extractOnHost(plain: Readable, o: RemoteExtract): Promise<void> {
  const { host, signal } = o;
  await refuseSymlinkedDirs(host, o.dir, o.wanted.values(), signal);
  const caps = parseCaps((await host.run(probeCommand(), { signal })).stdout);
  const proc = await host.exec(tarExtractCommand({ dir: o.dir, asRoot: caps.root, caps, paths: o.include }), {
    signal,
  });
  const stderr = collectTail(proc.stderr);
  let counting = false;
  const guard = createTarGuard({
    signal,
    onEvent: (ev) => {
      if (ev.type === 'entry') {
        const path = normalizeMember(ev.entry.path);
        counting = ev.entry.type === 'file' && o.isSelected(path);
        if (o.isSelected(path)) matchIndex(path, ev.entry.type, ev.entry.linkpath, o.wanted.get(path));
      } else if (ev.type === 'data' && counting) o.onData(ev.data.length);
    },
    onEntry: (e: IndexEntry) => {
      if (!o.isSelected(e.path)) return;
      const expected = o.wanted.get(e.path);
      if (e.type === 'file' && expected?.sha256 && e.sha256 !== expected.sha256) {
        throw new IntegrityError(`/${e.path}: content SHA-256 does not match the index`);
      }
      o.onEntry(e);
    },
  });
  const [, exit] = await allOrAbort(
    [pipeline(plain, guard, proc.stdin, { signal }), proc.done] as const,
    () => {
      o.abort();
      proc.kill();
    },
  );
  if (exit.code !== 0)
    throw new BoError(`tar -x on ${host.name} exited ${exit.code}: ${stderr().trim().slice(-2000)}`);
}

/** A selected archive entry must be the index's entry of that path: its ancestors were checked. */
function matchIndex(
  path: string,
  type: IndexEntry['type'],
  linkpath: string | undefined,
  expected: IndexEntry | undefined,
): void {
  if (expected?.type !== type) {
    const as = expected ? ` (the index has a ${expected.type})` : '';
    throw new IntegrityError(`archive entry ${path} (${type}) is not in the index${as}`);
  }
  if (type === 'hardlink' && normalizeMember(linkpath!, 'hardlink target') !== expected.linkpath) {
    throw new IntegrityError(`hardlink ${path} points elsewhere than the index says`);
  }
}

/**
 * Fails when a directory the restore goes through already exists in `dir` on the server as a
 * symlink. One `sh -s` run with the checks as its script on stdin (no command-line length limit).
 */
export async function refuseSymlinkedDirs(
  host: Host,
  dir: string,
  entries: Iterable<IndexEntry>,
  signal: AbortSignal,
): Promise<void> {
  const r = await host.run('sh -s', { input: symlinkCheckScript(dir, entries), signal });
  if (r.code === 0) return;
  const found = r.stdout.split('\n')[0];
  if (r.code === 3 && found) {
    throw new BoError(
      `refusing to restore into ${host.name}:${dir}: ${dir.replace(/\/$/, '')}/${found} is a symlink, and nothing is written through one`,
      { hint: 'remove or rename it on the server, or restore into an empty directory' },
    );
  }
  throw new BoError(`cannot check ${host.name}:${dir} before restoring: ${r.stderr.trim().slice(-500)}`);
}

/**
 * The server-side check as a POSIX sh script: `c NAME` exits 3 printing NAME when it is a
 * symlink. Names from the index that were not valid UTF-8 carry U+FFFD where the bytes were:
 * each such run becomes an unquoted `*`, so the glob matches (at least) the real name.
 */
export function symlinkCheckScript(dir: string, entries: Iterable<IndexEntry>): string {
  const dirs = new Set<string>();
  for (const e of entries) for (const a of ancestors(e.path)) if (a !== ROOT) dirs.add(a);
  const lines = [
    `cd -- ${shellQuote(dir)} || exit 2`,
    `c() { if [ -L "$1" ]; then printf '%s\\n' "$1"; exit 3; fi; }`,
  ];
  for (const d of dirs) {
    if (!d.includes('\uFFFD')) lines.push(`c ${shellQuote(d)}`);
    else {
      const glob = d
        .split(/\uFFFD+/)
        .map((part) => (part === '' ? '' : shellQuote(part)))
        .join('*');
      lines.push(`for p in ${glob}; do c "$p"; done`);
    }
  }
  lines.push('exit 0', '');
  return lines.join('\n');
}
