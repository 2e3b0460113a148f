/**
 * Parsers for df: GNU df's `--output` (space and inodes in one run), and POSIX mode (`-P`, the
 * fallback for dfs without --output): one line per filesystem, never wrapped. Pure.
 */

export interface DfSpace {
  filesystem: string;
  type: string;
  size: number;
  used: number;
  avail: number;
  mount: string;
}

export interface DfInodes {
  filesystem: string;
  type: string;
  inodes: number;
  used: number;
  free: number;
  mount: string;
}

/**
 * Filesystems that hold no data of their own (memory, kernel interfaces, read-only images): a
 * full tmpfs is a memory problem, a 100% squashfs is normal. Listing a mount explicitly still
 * checks it.
 */
export const PSEUDO_FS = new Set([
  'tmpfs',
  'devtmpfs',
  'ramfs',
  'squashfs',
  'overlay',
  'aufs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'devpts',
  'mqueue',
  'hugetlbfs',
  'debugfs',
  'tracefs',
  'securityfs',
  'pstore',
  'bpf',
  'efivarfs',
  'configfs',
  'fusectl',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'nsfs',
  'autofs',
  'binfmt_misc',
  'rpc_pipefs',
  'iso9660',
  'udf',
]);

/** `df -PT -B1`: Filesystem Type 1-blocks Used Available Capacity Mounted-on. */
export function parseDfSpace(text: string): DfSpace[] {
  const rows: DfSpace[] = [];
  for (const line of dataLines(text)) {
    const f = line.split(/\s+/);
    if (f.length < 7) continue;
    const [filesystem, type, size, used, avail] = f as [string, string, string, string, string];
    const nums = [size, used, avail].map(Number);
    if (nums.some((n) => !Number.isFinite(n))) continue;
    rows.push({
      filesystem,
      type,
      size: nums[0]!,
      used: nums[1]!,
      avail: nums[2]!,
      // Mount points may contain spaces: everything after the capacity column.
      mount: f.slice(6).join(' '),
    });
  }
  return rows;
}

/** `df -PTi`: Filesystem Type Inodes IUsed IFree IUse% Mounted-on. Filesystems without inode counts (btrfs) report 0. */
export function parseDfInodes(text: string): DfInodes[] {
  const rows: DfInodes[] = [];
  for (const line of dataLines(text)) {
    const f = line.split(/\s+/);
    if (f.length < 7) continue;
    const nums = f.slice(2, 5).map(Number);
    if (nums.some((n) => !Number.isFinite(n))) continue;
    rows.push({
      filesystem: f[0]!,
      type: f[1]!,
      inodes: nums[0]!,
      used: nums[1]!,
      free: nums[2]!,
      mount: f.slice(6).join(' '),
    });
  }
  return rows;
}

/** The columns the probe asks GNU df for: space and inodes of every filesystem in one process. */
export const DF_OUTPUT = 'source,fstype,size,used,avail,itotal,iused,iavail,target';
/** Separates `df -PT -B1` from `df -PTi` in the fallback's output. */
export const DF_INODES_MARK = '@@bo-df-inodes';
const OUTPUT_HEADER = /^Filesystem\s+Type\s+1B-blocks\s+Used\s+Avail\s+Inodes\s+IUsed\s+IFree\s+Mounted on$/m;

/**
 * The probe's df output, whichever form it took: `df -B1 --output=${DF_OUTPUT}`, or the fallback
 * `df -PT -B1`, DF_INODES_MARK, `df -PTi`. Either gives both tables.
 */
export function parseDf(text: string): { space: DfSpace[]; inodes: DfInodes[] } {
  if (OUTPUT_HEADER.test(text)) return parseDfOutput(text);
  const [space = '', inodes = ''] = text.split(new RegExp(`^${DF_INODES_MARK}$`, 'm'));
  return { space: parseDfSpace(space), inodes: parseDfInodes(inodes || space) };
}

/** `df -B1 --output=source,fstype,size,used,avail,itotal,iused,iavail,target`; `-` counts as 0. */
export function parseDfOutput(text: string): { space: DfSpace[]; inodes: DfInodes[] } {
  const space: DfSpace[] = [];
  const inodes: DfInodes[] = [];
  for (const line of dataLines(text)) {
    const f = line.split(/\s+/);
    if (f.length < 9) continue;
    const nums = f.slice(2, 8).map((v) => (v === '-' ? 0 : Number(v)));
    if (nums.some((n) => !Number.isFinite(n))) continue;
    const [size, used, avail, itotal, iused, iavail] = nums as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const common = { filesystem: f[0]!, type: f[1]!, mount: f.slice(8).join(' ') };
    space.push({ ...common, size, used, avail });
    inodes.push({ ...common, inodes: itotal, used: iused, free: iavail });
  }
  return { space, inodes };
}

/** Used share as df computes Capacity: used / (used + available), reserved blocks excluded. */
export function usedPercent(used: number, avail: number): number {
  const total = used + avail;
  return total > 0 ? (used / total) * 100 : 0;
}

function dataLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('Filesystem '));
}
