/**
 * btrfs snapshot commands and output parsing. Pure: strings in, strings out.
 *
 * Snapshots are read-only subvolumes `<snapshotDir>/bo-<job>-<time>`, by default in
 * `<volume>/.bo-snapshots`, which bo creates as a subvolume of its own: btrfs snapshots do not
 * descend into nested subvolumes, so the snapshots never contain each other (snapper's layout).
 * The short-lived snapshots of backup runs carry a marker file `.<name>.bo-run` (the run id)
 * beside them, so a leftover from a crashed run can be recognised and removed.
 *
 * Point in time: btrfs flushes dirty data before it snapshots, but data written between that
 * flush and the snapshot's commit is left out while metadata changes of the same moment (a
 * rename, an append's new size) may be in: measured here, 2 of 3 snapshots of a busy writer
 * were not one instant. Only the `flushoncommit` mount option closes that window (verified: 6 of
 * 6). So bo syncs the filesystem first (narrowing the window) and warns when the volume is not
 * mounted with flushoncommit.
 */
import { shellQuote } from '../plan/shell.ts';
import { parseSnapshotName } from './names.ts';
import { normalizeAbs } from './paths.ts';

/** The root inode of every btrfs subvolume. */
export const SUBVOLUME_INODE = '256';

export interface BtrfsEntry {
  name: string;
  job: string;
  time: Date;
  /** Subvolume id, for the qgroup size. */
  id: number | undefined;
  marker: string | undefined;
}

export function btrfsSnapshotDir(volume: string, snapshotDir?: string): string {
  return snapshotDir
    ? normalizeAbs(snapshotDir, 'snapshotDir')
    : `${normalizeAbs(volume, 'btrfs volume').replace(/\/$/, '')}/.bo-snapshots`;
}

export const WARNING_PREFIX = 'bo-warning=';
export const FLUSH_WARNING =
  'the btrfs filesystem is not mounted with flushoncommit: data written while the snapshot is taken may be missing from it (mount -o remount,flushoncommit, or quiesce writers in a before hook and resume them in afterSnapshot)';

/** `bo-warning=` lines of the create command's output. */
export function parseCreateWarnings(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(WARNING_PREFIX))
    .map((l) => l.slice(WARNING_PREFIX.length));
}

export function markerFile(name: string): string {
  return `.${name}.bo-run`;
}

/**
 * Checks the volume is a btrfs subvolume, creates the snapshot directory (as a subvolume) when
 * missing, refuses an existing target (btrfs would put the snapshot *inside* it), writes the
 * marker, then snapshots read-only. A failed snapshot takes its marker with it.
 */
export function btrfsCreateCommand(o: {
  volume: string;
  dir: string;
  name: string;
  marker?: string | undefined;
}): string {
  const v = shellQuote(normalizeAbs(o.volume, 'btrfs volume'));
  const d = shellQuote(o.dir);
  const target = shellQuote(`${o.dir}/${o.name}`);
  const marker = shellQuote(`${o.dir}/${markerFile(o.name)}`);
  return [
    `if [ "$(stat -f -c %T -- ${v} 2>/dev/null)" != btrfs ] || [ "$(stat -c %i -- ${v})" != ${SUBVOLUME_INODE} ]; then echo ${shellQuote(`bo: ${o.volume} is not a btrfs subvolume`)} >&2; exit 3; fi`,
    `if [ ! -e ${d} ]; then mkdir -p -- "$(dirname -- ${d})" && btrfs subvolume create -- ${d} >/dev/null || exit 4; fi`,
    `if [ -e ${target} ]; then echo ${shellQuote(`bo: ${o.dir}/${o.name} already exists`)} >&2; exit 17; fi`,
    `case ",$(findmnt -n -o OPTIONS -T ${v} 2>/dev/null)," in *,flushoncommit,*) ;; *) echo ${shellQuote(`${WARNING_PREFIX}${FLUSH_WARNING}`)} ;; esac`,
    `sync -f -- ${v} 2>/dev/null || sync`,
    ...(o.marker ? [`printf '%s\\n' ${shellQuote(o.marker)} > ${marker} || exit 5`] : []),
    `btrfs subvolume snapshot -r -- ${v} ${target} >/dev/null || { s=$?; rm -f -- ${marker}; exit $s; }`,
  ].join('\n');
}

/**
 * Lists `bo-*` subvolumes in the snapshot directory as NUL-separated records
 * `snap NAME ROOTID MARKER`, then the raw `btrfs qgroup show` table when quotas are enabled.
 */
export function btrfsListCommand(dir: string): string {
  const d = shellQuote(dir);
  return [
    `[ -d ${d} ] || exit 0`,
    `cd -- ${d} || exit 1`,
    `for f in bo-*; do`,
    `  [ -d "$f" ] && [ ! -L "$f" ] || continue`,
    `  [ "$(stat -c %i -- "$f")" = ${SUBVOLUME_INODE} ] || continue`,
    `  m=; if [ -f ".$f.bo-run" ]; then m=$(head -c 200 -- ".$f.bo-run"); fi`,
    `  printf 'snap\\0%s\\0%s\\0%s\\0' "$f" "$(btrfs inspect-internal rootid -- "$f" 2>/dev/null)" "$m"`,
    `done`,
    `q=$(btrfs qgroup show --raw -- . 2>/dev/null) && printf 'qgroups\\0%s\\0' "$q"`,
    `exit 0`,
  ].join('\n');
}

export interface BtrfsListing {
  entries: BtrfsEntry[];
  /** Exclusive bytes by subvolume id (only with quotas enabled). */
  exclusive: Map<number, number>;
}

/** Parses btrfsListCommand's output; names bo did not create are dropped. */
export function parseBtrfsList(stdout: string): BtrfsListing {
  const fields = stdout.split('\0');
  const entries: BtrfsEntry[] = [];
  const exclusive = new Map<number, number>();
  for (let i = 0; i < fields.length; ) {
    const tag = fields[i];
    if (tag === 'snap' && i + 3 < fields.length) {
      const [name, id, marker] = [fields[i + 1]!, fields[i + 2]!, fields[i + 3]!];
      i += 4;
      const parsed = parseSnapshotName(name);
      if (!parsed) continue;
      const m = marker.trim();
      entries.push({
        name,
        ...parsed,
        id: /^\d+$/.test(id.trim()) ? Number(id.trim()) : undefined,
        marker: m || undefined,
      });
    } else if (tag === 'qgroups' && i + 1 < fields.length) {
      for (const [id, bytes] of parseQgroups(fields[i + 1]!)) exclusive.set(id, bytes);
      i += 2;
    } else {
      i++;
    }
  }
  return { entries, exclusive };
}

/** `0/257  16384  16384 [path]` rows of `btrfs qgroup show --raw` → subvolume id → exclusive bytes. */
export function parseQgroups(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*0\/(\d+)\s+(\d+)\s+(\d+)(\s|$)/.exec(line);
    if (m) out.set(Number(m[1]), Number(m[3]));
  }
  return out;
}

/** Deletes one snapshot subvolume (only a subvolume: never `rm -r`) and its marker. Idempotent. */
export function btrfsDeleteCommand(dir: string, name: string): string {
  const d = shellQuote(dir);
  const n = shellQuote(name);
  return [
    `cd -- ${d} || exit 1`,
    `s=0`,
    `if [ -e ${n} ]; then`,
    `  if [ "$(stat -c %i -- ${n})" != ${SUBVOLUME_INODE} ]; then echo ${shellQuote(`bo: ${dir}/${name} is not a subvolume; not deleting it`)} >&2; exit 3; fi`,
    `  btrfs subvolume delete -- ${n} >/dev/null; s=$?`,
    `fi`,
    `[ $s -ne 0 ] || rm -f -- ${shellQuote(markerFile(name))}`,
    `exit $s`,
  ].join('\n');
}

/**
 * `btrfs filesystem du -s --raw` of snapshots in the snapshot directory: without quotas, the
 * only way to learn what each one holds on its own ("Exclusive"). It walks every file of every
 * snapshot, so bo runs it only when asked (`bo snapshots --du`).
 */
export function btrfsDuCommand(dir: string, names: readonly string[]): string {
  return `cd -- ${shellQuote(dir)} && btrfs filesystem du -s --raw -- ${names.map(shellQuote).join(' ')}`;
}

/** `Total Exclusive Set-shared Filename` rows → name → exclusive bytes. */
export function parseBtrfsDu(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+|-)\s+(.+)$/.exec(line);
    if (m) out.set(m[4]!, Number(m[2]));
  }
  return out;
}
