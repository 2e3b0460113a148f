/**
 * Where bo keeps snapshots on a host, so backups leave them out: a live backup of a btrfs volume
 * that also has a snapshot job would otherwise archive every snapshot under
 * `<volume>/.bo-snapshots` (with `hourly: 24`, the data 25 times), and a backup of `/` or `/run`
 * would read the LVM snapshots mounted under /run/bo/snapshots. ZFS snapshots are left out on
 * their own: `.zfs` is hidden from directory listings (the default `snapdir=hidden`). Pure.
 */
import type { Config, SnapshotVolume } from '../config/schema.ts';
import { btrfsSnapshotDir } from './btrfs-plan.ts';
import { MOUNT_ROOT } from './lvm-plan.ts';
import { normalizeAbs, within } from './paths.ts';

/** bo's snapshot directories on `host`, from every snapshot job and consistent backup there. */
export function boSnapshotDirs(config: Config, host: string): string[] {
  const dirs = new Set<string>();
  for (const job of Object.values(config.jobs)) {
    if (!('host' in job) || job.host !== host) continue;
    const vol: Pick<SnapshotVolume, 'provider' | 'volume' | 'snapshotDir'> | undefined =
      job.kind === 'snapshot' ? job : job.kind === 'backup' ? job.snapshot : undefined;
    if (vol?.provider === 'btrfs') {
      try {
        dirs.add(btrfsSnapshotDir(vol.volume, vol.snapshotDir));
      } catch {
        // An invalid volume path is the config check's to report.
      }
    }
    if (vol?.provider === 'lvm') dirs.add(MOUNT_ROOT);
  }
  return [...dirs].sort();
}

/** The snapshot directories that lie within one of the backup's paths: what tar must skip. */
export function snapshotDirsToExclude(dirs: readonly string[], paths: readonly string[]): string[] {
  const live = paths.map((p) => normalizeAbs(p, 'path'));
  return dirs.filter((d) => live.some((p) => within(d, p)));
}

/** An absolute exclude pattern matching exactly `path` (glob characters escaped for tar). */
export { globEscape as literalExclude } from './busy-plan.ts';
