/**
 * What a snapshot of a volume does not hold: nested btrfs subvolumes (a btrfs snapshot stops at
 * them, leaving an empty directory), and mounts below a path (an LVM snapshot holds one
 * filesystem; a ZFS snapshot holds one dataset, its children are mounted below it). A tar of the
 * snapshot would archive each as an empty directory, silently. So before a consistent backup bo
 * looks on the live side: the mount table (`/proc/self/mountinfo`) for mounts below each path,
 * and, on btrfs, `find -xdev -inum 256` for subvolume roots (every btrfs subvolume's root
 * directory is inode 256; -xdev stops at them, as they are separate devices). Pure.
 */
import { shellQuote } from '../plan/shell.ts';
import { normalizeAbs, within } from './paths.ts';

export interface NestedVolume {
  path: string;
  kind: 'subvolume' | 'mount';
  /** The backup path it lies below. */
  under: string;
}

/** NUL-separated records: `mountinfo TEXT`, then `subvol PATH` for each btrfs subvolume root. */
export function nestedCheckCommand(paths: readonly string[]): string {
  const lines = ["printf 'mountinfo\\0'; cat /proc/self/mountinfo; printf '\\0'"];
  for (const p of paths) {
    const q = shellQuote(normalizeAbs(p, 'path'));
    lines.push(
      `if [ -d ${q} ] && [ "$(stat -f -c %T -- ${q} 2>/dev/null)" = btrfs ]; then find ${q} -xdev -mindepth 1 -type d -inum 256 -printf 'subvol\\0%p\\0' 2>/dev/null; fi`,
    );
  }
  lines.push('exit 0');
  return lines.join('\n');
}

/** Mount points from mountinfo(5) text (field 5, octal-escaped). */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m?.startsWith('/') === true)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
}

/**
 * Everything below the paths that the snapshot lacks, minus what `ignored` says is left out
 * anyway (excluded, or bo's own snapshot directories). Outermost only: inside a nested volume
 * nothing else matters.
 */
export function parseNestedCheck(
  stdout: string,
  paths: readonly string[],
  ignored: (path: string) => boolean,
): NestedVolume[] {
  const fields = stdout.split('\0');
  const found: Array<{ path: string; kind: NestedVolume['kind'] }> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'mountinfo')
      for (const m of parseMountPoints(fields[i + 1]!)) found.push({ path: m, kind: 'mount' });
    else if (fields[i] === 'subvol')
      found.push({ path: normalizeAbs(fields[i + 1]!, 'path'), kind: 'subvolume' });
  }
  const live = paths.map((p) => normalizeAbs(p, 'path'));
  const out: NestedVolume[] = [];
  for (const f of found) {
    const under = live.find((p) => f.path !== p && within(f.path, p));
    if (!under || ignored(f.path)) continue;
    if (out.some((o) => o.path === f.path)) continue;
    out.push({ ...f, under });
  }
  const outermost = out.filter(
    (a) => !out.some((b) => b !== a && within(a.path, b.path) && a.path !== b.path),
  );
  return outermost.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * True when `path` is left out by one of the job's exclude patterns (the semantics of
 * plan/tar.ts: `/abs` anchored at the root, others at any depth; `*` and `?` never match `/`),
 * or lies below a path that is.
 */
export function isExcluded(path: string, patterns: readonly string[]): boolean {
  return patterns.some((raw) => {
    const pattern = raw.trim().replace(/\/+$/, '');
    if (pattern === '') return false;
    const body = globRegex(pattern.replace(/\/{2,}/g, '/'));
    const re = pattern.startsWith('/') ? `^${body}(/.*)?$` : `(^|/)${body}(/.*)?$`;
    return new RegExp(re).test(path);
  });
}

function globRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < glob.length) out += escapeRe(glob[++i]!);
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        out += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += escapeRe(c);
  }
  return out;
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** The one-line explanation a failed check gives, and the warning a `nested: skip` run records. */
export function describeNested(n: NestedVolume): string {
  const what =
    n.kind === 'subvolume' ? 'a nested btrfs subvolume' : 'a mount point (another filesystem or dataset)';
  return `${n.path} is ${what} below ${n.under}`;
}
