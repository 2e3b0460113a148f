/** Snapshot volumes (btrfs, LVM, ZFS): a consistent backup's `snapshot:` and snapshot jobs. */
import { z } from 'zod';
import { parseLvmVolume } from '../../snapshots/lvm-plan.ts';
import { normalizeAbs, within } from '../../snapshots/paths.ts';
import { checkDataset } from '../../snapshots/zfs-plan.ts';
import { whenParsed } from './common.ts';
import { HookFields, JobCommon, Retention } from './jobs-common.ts';

/** Where a snapshot is taken: shared by snapshot jobs and consistent backups (src/snapshots/). */
const SnapshotVolumeFields = {
  provider: z
    .enum(['btrfs', 'lvm', 'zfs'])
    .describe('btrfs subvolume, LVM logical volume (classic CoW snapshot) or ZFS dataset'),
  volume: z
    .string()
    .min(1)
    .describe('btrfs: the subvolume path (/srv/data); lvm: VG/LV (vg0/data); zfs: the dataset (tank/data)'),
  snapshotDir: z
    .string()
    .optional()
    .describe(
      'btrfs only: where snapshots are created (default <volume>/.bo-snapshots, created as a subvolume)',
    ),
  size: z
    .string()
    .regex(
      /^(\d+(\.\d+)?%|\d+(\.\d+)?[KMGT]?)$/i,
      'a percentage of the origin ("10%") or a size ("5G", "512M")',
    )
    .optional()
    .describe(
      'lvm only: copy-on-write space for the snapshot, default "10%" of the origin LV; bo checks the VG has room',
    ),
  mountPoint: z
    .string()
    .optional()
    .describe(
      'lvm, zfs: where the volume is mounted on the host (default: looked up with findmnt / zfs get mountpoint)',
    ),
};

type VolumeFields = {
  provider: string;
  volume: string;
  snapshotDir?: string | undefined;
  size?: string | undefined;
  mountPoint?: string | undefined;
};

/** The volume's form per provider, checked with the snapshot code's own parsers so both agree. */
function checkSnapshotVolume(v: VolumeFields, ctx: z.RefinementCtx): void {
  if (v.snapshotDir !== undefined && v.provider !== 'btrfs') {
    ctx.addIssue({ code: 'custom', path: ['snapshotDir'], message: 'snapshotDir applies to btrfs only' });
  }
  if (v.size !== undefined && v.provider !== 'lvm') {
    ctx.addIssue({ code: 'custom', path: ['size'], message: 'size (CoW space) applies to lvm only' });
  }
  if (v.mountPoint !== undefined && v.provider === 'btrfs') {
    ctx.addIssue({ code: 'custom', path: ['mountPoint'], message: 'mountPoint applies to lvm and zfs only' });
  }
  const check = (field: keyof VolumeFields, parse: (value: string) => unknown) => {
    const value = v[field];
    if (typeof value !== 'string' || value === '') return;
    try {
      parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: [field], message: (err as Error).message });
    }
  };
  if (v.provider === 'btrfs') check('volume', (x) => normalizeAbs(x, 'btrfs volume'));
  if (v.provider === 'lvm') check('volume', parseLvmVolume);
  if (v.provider === 'zfs') check('volume', checkDataset);
  if (v.provider === 'btrfs') check('snapshotDir', (x) => normalizeAbs(x, 'snapshotDir'));
  if (v.provider !== 'btrfs') check('mountPoint', (x) => normalizeAbs(x, 'mountPoint'));
}

/** A consistent backup reads every path from the snapshot, so each must lie on the volume. */
export function checkSnapshotPaths(
  job: { paths: string[]; snapshot?: VolumeFields | undefined },
  ctx: z.RefinementCtx,
): void {
  const vol = job.snapshot;
  // lvm and zfs without mountPoint: where the volume is mounted is only known on the host.
  const live = vol?.provider === 'btrfs' ? vol.volume : vol?.mountPoint;
  if (!vol || !live?.startsWith('/')) return;
  const mount = normalizeAbs(live, 'volume');
  job.paths.forEach((p, i) => {
    if (typeof p !== 'string' || !p.startsWith('/') || p.split('/').includes('..')) return;
    if (within(normalizeAbs(p, 'path'), mount)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['paths', i],
      message: `${p} is not on the snapshot volume ${vol.volume}${live === vol.volume ? '' : ` (mounted at ${mount})`}: a consistent backup reads every path from the snapshot`,
    });
  });
}

/** A consistent backup's `snapshot:`: a volume, and what to do about what its snapshot lacks. */
export const SnapshotVolume = z
  .strictObject({
    ...SnapshotVolumeFields,
    nested: z
      .enum(['fail', 'skip'])
      .optional()
      .describe(
        'Nested btrfs subvolumes, mounts and child datasets below a path are not in the snapshot: "fail" (default) fails the backup naming them; "skip" archives them as empty directories and records a warning in the manifest',
      ),
  })
  .superRefine(checkSnapshotVolume, whenParsed('provider'));
export type SnapshotVolume = z.infer<typeof SnapshotVolume>;

/** Takes a snapshot named bo-<job>-<UTC time> and prunes this job's snapshots by `retention`. */
export const SnapshotJob = z
  .strictObject({
    kind: z.literal('snapshot'),
    ...JobCommon,
    host: z.string().min(1).describe('Host name from `hosts`, or "local"'),
    ...SnapshotVolumeFields,
    retention: Retention.optional().describe(
      "Which of this job's snapshots are kept; without it none are pruned",
    ),
    ...HookFields,
  })
  .superRefine(checkSnapshotVolume, whenParsed('provider'));
export type SnapshotJob = z.infer<typeof SnapshotJob>;
