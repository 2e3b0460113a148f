/**
 * ZFS snapshot commands and output parsing. Pure.
 *
 * A snapshot is `<dataset>@bo-<job>-<time>`; a backup run's short-lived snapshot carries the
 * user property `bo:run=<run id>`. It is read through `<mountpoint>/.zfs/snapshot/<name>`, which
 * ZFS mounts on access, so no mount is needed. Listing uses `zfs list -H -p` (zfs-list(8)):
 * tab-separated, no header, exact numbers (`used` in bytes, `creation` in epoch seconds), and
 * `-` for an unset property.
 */
import { BoError, UsageError } from '../errors.ts';
import { shellJoin, shellQuote } from '../plan/shell.ts';
import { retryWhileBusy } from './busy-plan.ts';
import { parseSnapshotName } from './names.ts';

export const RUN_PROPERTY = 'bo:run';

/** ZFS dataset names: pool/fs/child, letters, digits and `_-.:` (no `@`, that starts a snapshot). */
const DATASET = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/;

export function checkDataset(volume: string): string {
  if (!DATASET.test(volume))
    throw new UsageError(`zfs volume must be a dataset such as tank/data; got ${JSON.stringify(volume)}`);
  return volume;
}

export function zfsSnapshotCommand(dataset: string, name: string, marker?: string): string {
  return shellJoin([
    'zfs',
    'snapshot',
    ...(marker ? ['-o', `${RUN_PROPERTY}=${marker}`] : []),
    `${checkDataset(dataset)}@${name}`,
  ]);
}

/** The dataset's own snapshots (depth 1), oldest first. */
export function zfsListCommand(dataset: string): string {
  return shellJoin([
    'zfs',
    'list',
    '-H',
    '-p',
    '-t',
    'snapshot',
    '-d',
    '1',
    '-s',
    'creation',
    '-o',
    `name,used,creation,${RUN_PROPERTY}`,
    checkDataset(dataset),
  ]);
}

export interface ZfsSnapshotRow {
  name: string;
  job: string;
  time: Date;
  used: number | undefined;
  marker: string | undefined;
}

/** Rows of zfsListCommand's output that are `dataset`'s snapshots with names bo creates. */
export function parseZfsList(stdout: string, dataset: string): ZfsSnapshotRow[] {
  const rows: ZfsSnapshotRow[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [full, used, , marker] = line.split('\t');
    const at = full?.indexOf('@') ?? -1;
    if (!full || at < 0 || full.slice(0, at) !== dataset) continue;
    const name = full.slice(at + 1);
    const parsed = parseSnapshotName(name);
    if (!parsed) continue;
    rows.push({
      name,
      ...parsed,
      used: used && /^\d+$/.test(used) ? Number(used) : undefined,
      marker: marker && marker !== '-' ? marker : undefined,
    });
  }
  return rows;
}

export function zfsDestroyCommand(dataset: string, name: string): string {
  // One snapshot, never -r/-R: nothing but the named snapshot can go. "dataset is busy" (its
  // .zfs/snapshot mount still in use) is retried a few times.
  return retryWhileBusy(shellJoin(['zfs', 'destroy', `${checkDataset(dataset)}@${name}`]));
}

export function zfsMountpointCommand(dataset: string): string {
  return shellJoin(['zfs', 'get', '-H', '-p', '-o', 'value', 'mountpoint,mounted', checkDataset(dataset)]);
}

/** The mount point of a mounted dataset (`legacy` datasets need `mountPoint` in the config). */
export function parseZfsMountpoint(stdout: string, dataset: string, configured?: string): string {
  const [mountpoint = '', mounted = ''] = stdout.split('\n').map((l) => l.trim());
  if (mounted !== 'yes')
    throw new BoError(
      `zfs dataset ${dataset} is not mounted; its snapshots cannot be read through .zfs/snapshot`,
    );
  if (configured) return configured;
  if (!mountpoint.startsWith('/')) {
    throw new BoError(`zfs dataset ${dataset} has mountpoint=${mountpoint}`, {
      hint: 'set snapshot.mountPoint to where it is mounted',
    });
  }
  return mountpoint;
}

export function snapshotReadPath(mountpoint: string, name: string): string {
  return `${mountpoint === '/' ? '' : mountpoint.replace(/\/$/, '')}/.zfs/snapshot/${name}`;
}

/** Entering the directory makes ZFS mount the snapshot. */
export function zfsAccessCommand(path: string): string {
  return `cd -- ${shellQuote(path)}`;
}
