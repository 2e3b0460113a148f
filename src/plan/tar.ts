/**
 * The server-side tar commands bo runs, as strings for `sh -c` (POSIX sh: dash, busybox). Pure.
 *
 * Archive layout: `tar -C /` with relative member names, so `/srv/share/a` is stored as
 * `srv/share/a` (a backup of `/` stores `./` for the root and `etc/…` below it), in pax format.
 *
 * Exclude patterns (config `exclude`), shell-glob style, `*` and `?` never match `/`:
 * - starting with `/`: anchored at the filesystem root: `/srv/share/cache` excludes exactly that
 *   path and everything below it (not `/srv/share/cache2`); `/srv/*\/tmp` one level deep;
 * - otherwise: matched against the end of every path, at any depth: `*.tmp` excludes every file
 *   ending in .tmp, `cache` every file or directory named cache, `sub/cache` every `cache` in a `sub`.
 * A trailing `/` is ignored (tar cannot tell "directory only").
 */
import { BoError, UsageError } from '../errors.ts';
import { shellJoin, shellQuote } from './shell.ts';
import type { TarCaps } from './tar-probe.ts';

export * from './tar-probe.ts';
export * from './tar-result.ts';

export type TarCompression = 'zstd' | 'gzip' | 'none';

/**
 * Members read under `from` are archived under `to`: a snapshot of /srv mounted at /mnt/snap is
 * `{ from: '/mnt/snap', to: '/srv' }`. `paths` and `exclude` stay in archived (original) terms;
 * they are mapped to `from` here.
 */
export interface PathTransform {
  from: string;
  to: string;
}

export interface TarCreateOptions {
  paths: readonly string[];
  exclude: readonly string[];
  oneFileSystem: boolean;
  compression: TarCompression;
  level?: number | undefined;
  /** Pipe tar into the server's compressor (the caller checked it exists: caps.zstd/gzip). */
  compressRemotely: boolean;
  /**
   * zstd on the server: cut the tar stream into independent frames of this many bytes each
   * (`split -b N --filter=zstd`, which needs caps.split), so the archive can be read at random
   * positions. Without it the server writes one frame.
   */
  frameSize?: number | undefined;
  caps: TarCaps;
  transform?: readonly PathTransform[] | undefined;
  /**
   * Incremental: GNU tar's snapshot file on the server (`--listed-incremental`), read for what
   * changed and rewritten for the next run; empty for a full. Devices are not compared (snapshots
   * get a new device every run; see archive/snar.ts for why bo clears them).
   */
  listedIncremental?: string | undefined;
}

const LEVELS = { zstd: { min: 1, max: 22, def: 3 }, gzip: { min: 1, max: 9, def: 6 } } as const;

/** `tar -c` writing the archive to stdout, with exit markers on stderr (see tar-result.ts). */
export function tarCreateCommand(o: TarCreateOptions): string {
  if (o.paths.length === 0) throw new UsageError('nothing to back up: no paths');
  const transforms = (o.transform ?? []).map((t) => ({
    from: absPath(t.from, 'transform'),
    to: absPath(t.to, 'transform'),
  }));
  for (const t of transforms) {
    if (t.from === '/') throw new UsageError('a transform cannot read from /');
    for (const u of transforms) {
      if (t !== u && (within(t.to, u.from) || within(u.from, t.to))) {
        throw new UsageError(`transforms ${t.from} -> ${t.to} and ${u.from} -> ${u.to} overlap`);
      }
    }
  }
  const onDisk = (p: string) => {
    const t = transforms.filter((x) => within(p, x.to)).sort((a, b) => b.to.length - a.to.length)[0];
    return t ? join(t.from, p.slice(t.to === '/' ? 1 : t.to.length)) : p;
  };
  const members = outermost(o.paths.map((p) => absPath(p, 'path'))).map((p) => member(onDisk(p)));
  const rootMember = members.includes('.');

  const args = ['tar', '-c', '-f', '-', '--format=posix'];
  if (o.caps.sparse) args.push('--sparse');
  if (o.caps.acls) args.push('--acls');
  if (o.caps.xattrs) args.push('--xattrs', '--xattrs-include=*');
  if (o.oneFileSystem) args.push('--one-file-system');
  if (o.listedIncremental !== undefined)
    args.push(`--listed-incremental=${o.listedIncremental}`, '--no-check-device');
  args.push('--warning=no-file-ignored');
  for (const t of transforms) args.push(...transformArgs(member(t.from), member(t.to)));
  if (rootMember) args.push('--transform=s,^\\./,,S');
  const anchored: string[] = [];
  const floating: string[] = [];
  for (const raw of o.exclude) {
    const pattern = raw.trim().replace(/\/+$/, '');
    if (pattern === '') throw new UsageError(`invalid exclude pattern ${JSON.stringify(raw)}`);
    if (!pattern.startsWith('/')) floating.push(pattern);
    else anchored.push(`${rootMember ? './' : ''}${member(onDisk(pattern.replace(/\/{2,}/g, '/')))}`);
  }
  args.push('--wildcards', '--no-wildcards-match-slash');
  if (anchored.length) args.push('--anchored', ...anchored.map((p) => `--exclude=${p}`));
  if (floating.length) args.push('--no-anchored', ...floating.map((p) => `--exclude=${p}`));
  // Wildcards are for the excludes only (the options are positional): with --wildcards still in
  // force for the member names, tar --listed-incremental archives no directory at all (tar 1.34).
  args.push('--no-wildcards', '-C', '/', '--', ...members);
  const tar = `LC_ALL=C ${shellJoin(args)}`;

  if (!o.compressRemotely || o.compression === 'none')
    return `${tar}; s=$?; echo "bo-tar-exit=$s" >&2; exit $s`;
  if (!o.caps[o.compression]) throw new BoError(`${o.compression} is not installed on the server`);
  const lv = LEVELS[o.compression];
  const level = o.level ?? lv.def;
  if (!Number.isInteger(level) || level < lv.min || level > lv.max) {
    throw new UsageError(`${o.compression} level must be ${lv.min}..${lv.max}, got ${level}`);
  }
  const zstd = `zstd -q -c ${level > 19 ? '--ultra ' : ''}-${level}`;
  let comp = o.compression === 'zstd' ? `${zstd} -T0` : `gzip -c -n -${level}`;
  if (o.compression === 'zstd' && o.frameSize !== undefined) {
    if (!o.caps.split) throw new BoError('GNU split with --filter is not installed on the server');
    if (!Number.isInteger(o.frameSize) || o.frameSize < 1) throw new UsageError('invalid frame size');
    // One zstd per frame, each exiting before the next starts: split waits for each filter and
    // exits non-zero when one fails. split runs the filter with $SHELL, which may be any shell.
    comp = `SHELL=/bin/sh split -b ${o.frameSize} --filter=${shellQuote(`${zstd} -T0`)}`;
  }
  return `( ${tar}; echo "bo-tar-exit=$?" >&2 ) | ${comp}; s=$?; echo "bo-${o.compression}-exit=$s" >&2; exit $s`;
}

export interface TarExtractOptions {
  /** Absolute target directory on the server (created if missing). */
  dir: string;
  /** The stream is compressed and the server decompresses it. */
  compression?: TarCompression | undefined;
  asRoot: boolean;
  caps: TarCaps;
  /** Members (`srv/share`) to extract with everything below them; default all. */
  paths?: readonly string[] | undefined;
}

/**
 * `tar -x` from stdin into `dir` on a server: modes as stored (`-p`), numeric owners when root,
 * xattrs and ACLs when supported, existing directories' metadata kept (`--no-overwrite-dir`).
 * GNU tar strips leading `/` and refuses `..` (no -P), but follows symlinks already in `dir` at
 * intermediate directories: the restore checks those first and puts the tar guard in front of
 * it (jobs/restore-remote.ts). Exit markers as for create.
 */
export function tarExtractCommand(o: TarExtractOptions): string {
  const dir = absPath(o.dir, 'restore directory');
  const args = ['tar', '-x', '-f', '-', '-C', dir, '-p'];
  args.push(...(o.asRoot ? ['--same-owner', '--numeric-owner'] : ['--no-same-owner']));
  if (o.caps.xattrs) args.push('--xattrs', '--xattrs-include=*');
  if (o.caps.acls) args.push('--acls');
  args.push('--no-overwrite-dir');
  const members = (o.paths ?? [])
    .map((p) => p.replace(/^\/+/, '').replace(/\/+$/, ''))
    .filter((p) => p !== '');
  if (members.length) args.push('--', ...members);
  const tar = `LC_ALL=C ${shellJoin(args)}`;
  const mkdir = `mkdir -p -- ${shellQuote(dir)}`;
  const c = o.compression ?? 'none';
  if (c === 'none') return `${mkdir} && { ${tar}; s=$?; echo "bo-tar-exit=$s" >&2; exit $s; }`;
  const decomp = c === 'zstd' ? 'zstd -d -q -c' : 'gzip -d -c';
  return `${mkdir} && { ( ${decomp}; echo "bo-${c}-exit=$?" >&2 ) | ${tar}; s=$?; echo "bo-tar-exit=$s" >&2; exit $s; }`;
}

/**
 * Member names as tar reads them (under a snapshot's mount point) to the names they are archived
 * under (the live paths), and back: GNU tar's snapshot file records the names it read, which
 * change with every snapshot, so bo keeps them in archived terms between runs.
 */
export function memberMapper(transforms: readonly PathTransform[]): {
  toArchived: (name: string) => string;
  toOnDisk: (name: string) => string;
} {
  const pairs = transforms.map((t) => ({
    disk: member(absPath(t.from, 'transform')),
    live: member(absPath(t.to, 'transform')),
  }));
  const swap = (name: string, from: string, to: string): string | undefined => {
    if (from === '.') return to === '.' ? name : `${to}/${name}`;
    if (name === from) return to;
    if (!name.startsWith(`${from}/`)) return undefined;
    const rest = name.slice(from.length + 1);
    return to === '.' ? rest : `${to}/${rest}`;
  };
  const map = (name: string, dir: 'toArchived' | 'toOnDisk') => {
    for (const p of pairs) {
      const r = dir === 'toArchived' ? swap(name, p.disk, p.live) : swap(name, p.live, p.disk);
      if (r !== undefined) return r;
    }
    return name;
  };
  return { toArchived: (n) => map(n, 'toArchived'), toOnDisk: (n) => map(n, 'toOnDisk') };
}

/** `/a//b/./c/` → `/a/b/c`; relative paths and `..` are usage errors. */
function absPath(p: string, what: string): string {
  if (!p.startsWith('/')) throw new UsageError(`${what} must be absolute, got ${JSON.stringify(p)}`);
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new UsageError(`${what} must not contain "..": ${JSON.stringify(p)}`);
  return `/${parts.join('/')}`;
}

function within(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(`${dir}/`);
}

function join(dir: string, rest: string): string {
  return rest === '' ? dir : `${dir === '/' ? '' : dir}/${rest.replace(/^\//, '')}`;
}

/** Drops paths inside other paths (tar would archive them twice), keeping the order. */
function outermost(paths: string[]): string[] {
  return paths.filter((p, i) => !paths.some((q, j) => (j < i ? within(p, q) : q !== p && within(p, q))));
}

/** Member name of an absolute path under `-C /`. */
function member(p: string): string {
  return p === '/' ? '.' : p.slice(1);
}

/** GNU tar --transform expressions renaming `from` to `to` (members), not touching symlink targets. */
function transformArgs(from: string, to: string): string[] {
  const d = [',', '#', '%', '@', ':', ';', '!', '~', '='].find((c) => !from.includes(c) && !to.includes(c));
  if (!d || /[\n]/.test(from + to)) throw new UsageError(`cannot express the transform ${from} -> ${to}`);
  const re = from.replace(/[\\.*[\]^$]/g, (c) => `\\${c}`);
  if (to === '.') return [`--transform=s${d}^${re}$${d}.${d}S`, `--transform=s${d}^${re}/${d}${d}S`];
  const rep = to.replace(/[\\&]/g, (c) => `\\${c}`);
  return [`--transform=s${d}^${re}\\(/\\|$\\)${d}${rep}\\1${d}S`];
}
