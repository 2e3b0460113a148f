/**
 * LVM (classic copy-on-write) snapshot commands and report parsing. Pure.
 *
 * A snapshot is an LV `bo-<job>-<time>` in the origin's VG, tagged `bo`; a backup run's
 * short-lived snapshot also carries the tag `bo-run=<run id>`. Its CoW space is `size` (a
 * percentage of the origin, default 10%, or an absolute size); bo checks the VG has that much
 * free before `lvcreate`, because a snapshot whose CoW space fills up is invalidated. It is read
 * through a read-only mount under /run/bo/snapshots/<name> (XFS needs `nouuid`: the snapshot
 * has the origin's UUID). Reports come from `lvs/vgs --reportformat json --units b --nosuffix`
 * (lvmreport(7)): every value is a string, sizes in bytes.
 */
import { BoError, RemoteError, UsageError } from '../errors.ts';
import { shellJoin, shellQuote } from '../plan/shell.ts';
import { retryWhileBusy } from './busy-plan.ts';

export const MOUNT_ROOT = '/run/bo/snapshots';
export const BO_TAG = 'bo';
export const RUN_TAG_PREFIX = 'bo-run=';
export const DEFAULT_COW_SIZE = '10%';

/** LVM's characters for VG and LV names. */
const LVM_NAME = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/;

export interface LvmVolume {
  vg: string;
  lv: string;
}

/** `vg0/data` (or `/dev/vg0/data`) → { vg, lv }. */
export function parseLvmVolume(volume: string): LvmVolume {
  const m = /^(?:\/dev\/)?([^/]+)\/([^/]+)$/.exec(volume);
  if (!m || !LVM_NAME.test(m[1]!) || !LVM_NAME.test(m[2]!)) {
    throw new UsageError(`lvm volume must be VG/LV, e.g. vg0/data; got ${JSON.stringify(volume)}`);
  }
  return { vg: m[1]!, lv: m[2]! };
}

export interface LvRow {
  name: string;
  vg: string;
  /** Bytes (for a snapshot: its CoW space). */
  size: number;
  attr: string;
  origin: string;
  tags: string[];
  /** CoW space used, percent; undefined when unknown (inactive LV). */
  snapPercent: number | undefined;
}

export interface VgRow {
  name: string;
  size: number;
  free: number;
  extentSize: number;
}

const LV_FIELDS = 'lv_name,vg_name,lv_size,lv_attr,origin,lv_tags,snap_percent';

export function lvsCommand(vg: string): string {
  return shellJoin(['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', LV_FIELDS, vg]);
}

export function vgsCommand(vg: string): string {
  return shellJoin([
    'vgs',
    '--reportformat',
    'json',
    '--units',
    'b',
    '--nosuffix',
    '-o',
    'vg_name,vg_size,vg_free,vg_extent_size',
    vg,
  ]);
}

export function parseLvs(json: string): LvRow[] {
  return reportRows(json, 'lv').map((r) => ({
    name: str(r.lv_name),
    vg: str(r.vg_name),
    size: bytes(r.lv_size, 'lv_size'),
    attr: str(r.lv_attr),
    origin: str(r.origin),
    tags: str(r.lv_tags) === '' ? [] : str(r.lv_tags).split(','),
    snapPercent: str(r.snap_percent) === '' ? undefined : Number(str(r.snap_percent)),
  }));
}

export function parseVgs(json: string): VgRow[] {
  return reportRows(json, 'vg').map((r) => ({
    name: str(r.vg_name),
    size: bytes(r.vg_size, 'vg_size'),
    free: bytes(r.vg_free, 'vg_free'),
    extentSize: bytes(r.vg_extent_size, 'vg_extent_size'),
  }));
}

/** lv_attr's 5th character is the state; `I` = invalid snapshot (its CoW space overflowed). */
export function isInvalidSnapshot(row: LvRow): boolean {
  return row.attr[0] === 's' && (row.attr[4] === 'I' || row.snapPercent === 100);
}

export interface CowPlan {
  /** lvcreate size arguments: `-l 10%ORIGIN` or `-L <bytes>b`. */
  args: string[];
  /** Bytes the VG must have free (rounded up to whole extents). */
  bytes: number;
}

/** The CoW space a snapshot of an `originBytes` LV takes under `size`, in whole extents. */
export function planCow(size: string, originBytes: number, extentSize: number): CowPlan {
  const m = /^(\d+(?:\.\d+)?)(%|[KMGT]?)$/i.exec(size.trim());
  if (!m) throw new UsageError(`invalid lvm snapshot size ${JSON.stringify(size)} (examples: 10%, 5G, 512M)`);
  const n = Number(m[1]);
  const unit = m[2]!.toUpperCase();
  const extents = (b: number) => Math.max(1, Math.ceil(b / extentSize));
  if (unit === '%') {
    if (n <= 0 || n > 100)
      throw new UsageError(`lvm snapshot size must be above 0% and at most 100%, got ${size}`);
    return { args: ['-l', `${m[1]}%ORIGIN`], bytes: extents((originBytes * n) / 100) * extentSize };
  }
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit]!;
  const b = Math.ceil(n * mult);
  if (b <= 0) throw new UsageError(`lvm snapshot size must be positive, got ${size}`);
  return { args: ['-L', `${b}b`], bytes: extents(b) * extentSize };
}

/** Throws unless the VG has room for the CoW space. */
export function checkRoom(vg: VgRow, cow: CowPlan, size: string): void {
  if (vg.free < cow.bytes) {
    throw new BoError(
      `volume group ${vg.name} has ${mib(vg.free)} free; the snapshot needs ${mib(cow.bytes)} (size ${size})`,
      { hint: 'free space in the VG (vgextend, or shrink/remove an LV), or set a smaller snapshot.size' },
    );
  }
}

export function lvcreateCommand(o: {
  vol: LvmVolume;
  name: string;
  cow: CowPlan;
  marker?: string | undefined;
}): string {
  const tags = ['--addtag', BO_TAG, ...(o.marker ? ['--addtag', `${RUN_TAG_PREFIX}${o.marker}`] : [])];
  return shellJoin(['lvcreate', '-s', '-n', o.name, ...o.cow.args, ...tags, `${o.vol.vg}/${o.vol.lv}`]);
}

export function lvremoveCommand(vg: string, name: string): string {
  return shellJoin(['lvremove', '-f', `${vg}/${name}`]);
}

export function mountDir(name: string): string {
  return `${MOUNT_ROOT}/${name}`;
}

export function fsTypeCommand(vg: string, name: string): string {
  return shellJoin(['blkid', '-o', 'value', '-s', 'TYPE', `/dev/${vg}/${name}`]);
}

/** Read-only mount options: XFS refuses a second filesystem with the same UUID unless `nouuid`. */
export function mountOptions(fstype: string): string {
  return fstype === 'xfs' ? 'ro,nouuid' : 'ro';
}

export function mountCommand(vg: string, name: string, fstype: string): string {
  const dir = mountDir(name);
  const type = /^[a-z0-9]+$/.test(fstype) ? ['-t', fstype] : [];
  return `mkdir -p ${shellQuote(dir)} && ${shellJoin(['mount', ...type, '-o', mountOptions(fstype), `/dev/${vg}/${name}`, dir])}`;
}

/**
 * Unmounts (when mounted) and removes the mount directory; idempotent. A "target is busy" (a
 * killed tar still dying) is retried a few times: giving up leaves the snapshot behind.
 */
export function unmountCommand(name: string): string {
  const d = shellQuote(mountDir(name));
  return [
    `[ -d ${d} ] || exit 0`,
    `if mountpoint -q ${d}; then (`,
    retryWhileBusy(`umount ${d}`),
    `) || exit 1; fi`,
    `rmdir ${d} 2>/dev/null; exit 0`,
  ].join('\n');
}

/** Where the origin LV is mounted: `findmnt` prints one target per line, `\x20`-escaped. */
export function findMountCommand(vol: LvmVolume): string {
  // findmnt exits 1 when the device is not mounted: that is an answer, not a failure.
  return `${shellJoin(['findmnt', '-r', '-n', '-o', 'TARGET', '-S', `/dev/${vol.vg}/${vol.lv}`])} || true`;
}

export function parseFindmnt(stdout: string): string | undefined {
  const first = stdout.split('\n').find((l) => l.trim() !== '');
  return first
    ?.trim()
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

function reportRows(json: string, kind: 'lv' | 'vg'): Array<Record<string, unknown>> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new RemoteError(`unexpected ${kind}s output (not JSON): ${json.slice(0, 200)}`);
  }
  const reports = (doc as { report?: unknown }).report;
  if (!Array.isArray(reports)) throw new RemoteError(`unexpected ${kind}s output: no "report" array`);
  return reports.flatMap((r) => {
    const rows = (r as Record<string, unknown>)[kind];
    return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
  });
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function bytes(v: unknown, field: string): number {
  const s = str(v);
  if (!/^\d+$/.test(s))
    throw new RemoteError(`unexpected ${field} ${JSON.stringify(s)} in the LVM report (expected bytes)`);
  return Number(s);
}

function mib(b: number): string {
  return b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)} GiB` : `${(b / 1024 ** 2).toFixed(0)} MiB`;
}
