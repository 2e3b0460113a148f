/**
 * What the server can do, and whether the paths to back up are there: one short command each,
 * with line-oriented output that is parsed here. Pure: no I/O.
 */
import { BoError, RemoteError } from '../errors.ts';
import { shellQuote } from './shell.ts';

/** Capabilities of a server, from `probeCommand()`. */
export interface TarCaps {
  /** GNU tar is the `tar` on PATH (bo needs it: pax format, sparse files, xattrs, transforms). */
  gnuTar: boolean;
  /** GNU tar version, e.g. "1.34". */
  version: string | undefined;
  posix: boolean;
  sparse: boolean;
  acls: boolean;
  xattrs: boolean;
  zstd: boolean;
  gzip: boolean;
  /** GNU split with --filter (coreutils 8.13+): the server can cut its zstd output into frames. */
  split: boolean;
  /** The SSH user is root (uid 0): can read everything and restore owners. */
  root: boolean;
  uid: number | undefined;
}

/** The oldest GNU tar bo relies on (xattrs/ACL support in pax format). */
export const MIN_TAR_VERSION = '1.27';

/**
 * Prints `key=value` lines: uid, tar (first line of `tar --version`), and 0/1 for each option
 * tested by running it (`--help` lists options a build may not support) and each compressor.
 * Portable to dash and busybox sh.
 */
export function probeCommand(): string {
  return [
    'echo bo-probe=1',
    'echo "uid=$(id -u 2>/dev/null)"',
    'echo "tar=$(LC_ALL=C tar --version 2>/dev/null | head -n 1)"',
    't() { if LC_ALL=C tar "$@" -c -f /dev/null -T /dev/null >/dev/null 2>&1; then echo 1; else echo 0; fi; }',
    'echo "posix=$(t --format=posix)"',
    'echo "sparse=$(t --format=posix --sparse)"',
    'echo "acls=$(t --format=posix --acls)"',
    'echo "xattrs=$(t --format=posix --xattrs)"',
    'for c in zstd gzip; do if command -v "$c" >/dev/null 2>&1; then echo "$c=1"; else echo "$c=0"; fi; done',
    'if echo | SHELL=/bin/sh split -b 1 --filter=cat >/dev/null 2>&1; then echo split=1; else echo split=0; fi',
  ].join('; ');
}

export function parseCaps(stdout: string): TarCaps {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  if (kv.get('bo-probe') !== '1')
    throw new RemoteError('unexpected output from the capability probe (is the login shell sh-compatible?)');
  const flag = (k: string) => kv.get(k) === '1';
  const version = /\(GNU tar\) ([0-9][0-9.]*)/.exec(kv.get('tar') ?? '')?.[1];
  const uid = /^[0-9]+$/.test(kv.get('uid') ?? '') ? Number(kv.get('uid')) : undefined;
  return {
    gnuTar: version !== undefined,
    version,
    posix: flag('posix'),
    sparse: flag('sparse'),
    acls: flag('acls'),
    xattrs: flag('xattrs'),
    zstd: flag('zstd'),
    gzip: flag('gzip'),
    split: flag('split'),
    root: uid === 0,
    uid,
  };
}

/** Throws a BoError naming the host unless its tar is a GNU tar bo can use. */
export function assertUsableTar(caps: TarCaps, host: string): void {
  const hint = 'install GNU tar on the server (Debian/Ubuntu: apt install tar; Alpine: apk add tar)';
  if (!caps.gnuTar) throw new BoError(`${host} has no GNU tar (bo needs GNU tar on the server)`, { hint });
  if (compareVersions(caps.version!, MIN_TAR_VERSION) < 0 || !caps.posix) {
    throw new BoError(
      `GNU tar ${caps.version} on ${host} is too old (bo needs ${MIN_TAR_VERSION} or later)`,
      { hint },
    );
  }
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * Checks that each path exists (a dangling symlink counts: tar archives the link) and is
 * readable (directories: also searchable). Output: one NUL-terminated `bo-path <status> <path>`
 * record per path, so any byte in a path survives.
 */
export function pathCheckCommand(paths: readonly string[]): string {
  const list = paths.map(shellQuote).join(' ');
  return (
    `for p in ${list}; do ` +
    'if [ -e "$p" ] || [ -L "$p" ]; then ' +
    'if [ -r "$p" ] && { [ ! -d "$p" ] || [ -x "$p" ]; }; then s=ok; else s=unreadable; fi; ' +
    'else s=missing; fi; ' +
    `printf 'bo-path %s %s\\000' "$s" "$p"; done`
  );
}

export interface PathProblem {
  path: string;
  /** Reads after the path: "path /srv/nope does not exist". */
  problem: 'does not exist' | 'is not readable' | 'could not be checked';
}

/**
 * The paths that are missing or unreadable. With `paths`, a path the output does not mention
 * (the command was cut short) is reported too.
 */
export function parsePathCheck(stdout: string, paths?: readonly string[]): PathProblem[] {
  const problems: PathProblem[] = [];
  const seen = new Set<string>();
  for (const rec of stdout.split('\0')) {
    // Unanchored: a login banner may precede the first record.
    const m = /bo-path (ok|missing|unreadable) ([\s\S]*)$/.exec(rec);
    if (!m) continue;
    const path = m[2]!;
    seen.add(path);
    if (m[1] === 'missing') problems.push({ path, problem: 'does not exist' });
    else if (m[1] === 'unreadable') problems.push({ path, problem: 'is not readable' });
  }
  for (const p of paths ?? []) if (!seen.has(p)) problems.push({ path: p, problem: 'could not be checked' });
  return problems;
}
