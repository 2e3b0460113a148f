import { assertBoName, parseSnapshotName } from './names.ts';
import { normalizeAbs } from './paths.ts';
import type { SnapshotProvider } from './provider.ts';
import { runChecked } from './run.ts';
import {
  checkDataset,
  parseZfsList,
  parseZfsMountpoint,
  snapshotReadPath,
  zfsAccessCommand,
  zfsDestroyCommand,
  zfsListCommand,
  zfsMountpointCommand,
  zfsSnapshotCommand,
} from './zfs-plan.ts';

/** ZFS: `zfs snapshot`, read through `.zfs/snapshot/<name>` (mounted by ZFS on access). */
export const zfsProvider: SnapshotProvider = {
  name: 'zfs',

  async create(host, vol, name, { signal, marker }) {
    const ds = checkDataset(vol.volume);
    await runChecked(host, zfsSnapshotCommand(ds, assertBoName(name), marker), {
      signal,
      what: `zfs snapshot of ${ds}`,
    });
    return { provider: 'zfs', volume: ds, name, ...parseSnapshotName(name)!, ref: `${ds}@${name}`, marker };
  },

  async list(host, vol, { signal }) {
    const ds = checkDataset(vol.volume);
    const out = await runChecked(host, zfsListCommand(ds), {
      signal,
      what: `listing zfs snapshots of ${ds}`,
    });
    return parseZfsList(out, ds).map((r) => ({
      provider: 'zfs' as const,
      volume: ds,
      name: r.name,
      job: r.job,
      time: r.time,
      ref: `${ds}@${r.name}`,
      size: r.used,
      marker: r.marker,
    }));
  },

  async delete(host, vol, snap, { signal }) {
    await runChecked(host, zfsDestroyCommand(checkDataset(vol.volume), assertBoName(snap.name)), {
      signal,
      what: `zfs destroy ${snap.ref}`,
    });
  },

  async mountForRead(host, vol, snap, { signal }) {
    const ds = checkDataset(vol.volume);
    const configured = vol.mountPoint ? normalizeAbs(vol.mountPoint, 'snapshot.mountPoint') : undefined;
    const mp = parseZfsMountpoint(
      await runChecked(host, zfsMountpointCommand(ds), { signal, what: `zfs get mountpoint ${ds}` }),
      ds,
      configured,
    );
    const path = snapshotReadPath(mp, assertBoName(snap.name));
    await runChecked(host, zfsAccessCommand(path), { signal, what: `opening ${path}` });
    return { path, livePath: mp };
  },

  async release() {
    // ZFS unmounts idle .zfs/snapshot mounts itself, and `zfs destroy` unmounts before destroying.
  },
};
