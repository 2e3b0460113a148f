import type { SnapshotVolume } from '../config/schema.ts';
import type { Host } from '../remote/host.ts';
import {
  btrfsCreateCommand,
  btrfsDeleteCommand,
  btrfsDuCommand,
  btrfsListCommand,
  btrfsSnapshotDir,
  parseBtrfsDu,
  parseBtrfsList,
  parseCreateWarnings,
} from './btrfs-plan.ts';
import { assertBoName, parseSnapshotName } from './names.ts';
import { normalizeAbs } from './paths.ts';
import type { SnapshotInfo, SnapshotProvider } from './provider.ts';
import { runChecked } from './run.ts';

/** btrfs: `btrfs subvolume snapshot -r`; a snapshot is readable where it lies, no mount needed. */
export const btrfsProvider: SnapshotProvider = {
  name: 'btrfs',

  async create(host, vol, name, { signal, marker }) {
    const dir = btrfsSnapshotDir(vol.volume, vol.snapshotDir);
    const out = await runChecked(host, btrfsCreateCommand({ volume: vol.volume, dir, name, marker }), {
      signal,
      what: `btrfs snapshot of ${vol.volume}`,
    });
    return { ...info(vol, dir, name, { marker }), warnings: parseCreateWarnings(out) };
  },

  async list(host, vol, { signal }) {
    const dir = btrfsSnapshotDir(vol.volume, vol.snapshotDir);
    const out = await runChecked(host, btrfsListCommand(dir), {
      signal,
      what: `listing btrfs snapshots in ${dir}`,
    });
    const { entries, exclusive } = parseBtrfsList(out);
    return entries
      .map((e) =>
        info(vol, dir, e.name, {
          marker: e.marker,
          size: e.id === undefined ? undefined : exclusive.get(e.id),
        }),
      )
      .sort((a, b) => a.time.getTime() - b.time.getTime());
  },

  async delete(host, vol, snap, { signal }) {
    const dir = btrfsSnapshotDir(vol.volume, vol.snapshotDir);
    await runChecked(host, btrfsDeleteCommand(dir, assertBoName(snap.name)), {
      signal,
      what: `deleting btrfs snapshot ${snap.ref}`,
    });
  },

  async mountForRead(_host, vol, snap) {
    return { path: snap.ref, livePath: normalizeAbs(vol.volume, 'btrfs volume') };
  },

  async release() {
    // Nothing is mounted for btrfs.
  },
};

function info(
  vol: SnapshotVolume,
  dir: string,
  name: string,
  extra: { marker?: string | undefined; size?: number | undefined },
): SnapshotInfo {
  const parsed = parseSnapshotName(name);
  if (!parsed) throw new TypeError(`not a bo snapshot name: ${name}`);
  return { provider: 'btrfs', volume: vol.volume, name, ...parsed, ref: `${dir}/${name}`, ...extra };
}

/**
 * Fills in the exclusive size of btrfs snapshots listed without one (no quotas) from
 * `btrfs filesystem du`, which reads every file: slow on big trees, so only on request.
 */
export async function btrfsDuSizes(
  host: Host,
  vol: SnapshotVolume,
  snaps: SnapshotInfo[],
  signal: AbortSignal,
): Promise<SnapshotInfo[]> {
  const missing = snaps.filter((s) => s.size === undefined).map((s) => assertBoName(s.name));
  if (missing.length === 0) return snaps;
  const dir = btrfsSnapshotDir(vol.volume, vol.snapshotDir);
  const sizes = parseBtrfsDu(
    await runChecked(host, btrfsDuCommand(dir, missing), { signal, what: `btrfs filesystem du in ${dir}` }),
  );
  return snaps.map((s) => (s.size === undefined ? { ...s, size: sizes.get(s.name) } : s));
}
