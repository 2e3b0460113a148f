/** Parsers for GNU df in POSIX mode (`-P`): one line per filesystem, never wrapped. Pure. */

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
