import type { SnapshotVolume } from '../config/schema.ts';
import { BoError } from '../errors.ts';
import type { Host } from '../remote/host.ts';
import {
  checkRoom,
  DEFAULT_COW_SIZE,
  findMountCommand,
  fsTypeCommand,
  isInvalidSnapshot,
  type LvRow,
  lvcreateCommand,
  lvremoveCommand,
  lvsCommand,
  mountCommand,
  mountDir,
  parseFindmnt,
  parseLvmVolume,
  parseLvs,
  parseVgs,
  planCow,
  RUN_TAG_PREFIX,
  unmountCommand,
  vgsCommand,
} from './lvm-plan.ts';
import { assertBoName, parseSnapshotName } from './names.ts';
import { normalizeAbs } from './paths.ts';
import type { SnapshotInfo, SnapshotProvider } from './provider.ts';
import { runChecked } from './run.ts';

/** LVM: `lvcreate -s` with a checked CoW size; read through a read-only mount. */
export const lvmProvider: SnapshotProvider = {
  name: 'lvm',

  async create(host, vol, name, { signal, marker }) {
    const lvm = parseLvmVolume(vol.volume);
    const lvs = parseLvs(await runChecked(host, lvsCommand(lvm.vg), { signal, what: `lvs ${lvm.vg}` }));
    const origin = lvs.find((r) => r.name === lvm.lv);
    if (!origin) throw new BoError(`logical volume ${lvm.vg}/${lvm.lv} does not exist on ${host.name}`);
    const vg = parseVgs(await runChecked(host, vgsCommand(lvm.vg), { signal, what: `vgs ${lvm.vg}` }))[0];
    if (!vg) throw new BoError(`volume group ${lvm.vg} does not exist on ${host.name}`);
    const size = vol.size ?? DEFAULT_COW_SIZE;
    const cow = planCow(size, origin.size, vg.extentSize);
    checkRoom(vg, cow, size);
    await runChecked(host, lvcreateCommand({ vol: lvm, name, cow, marker }), {
      signal,
      what: `lvcreate snapshot of ${vol.volume}`,
    });
    return { ...info(vol, name, lvm.vg)!, size: cow.bytes, marker };
  },

  async list(host, vol, { signal }) {
    const lvm = parseLvmVolume(vol.volume);
    const rows = parseLvs(await runChecked(host, lvsCommand(lvm.vg), { signal, what: `lvs ${lvm.vg}` }));
    return rows
      .filter((r) => r.origin === lvm.lv)
      .flatMap((r) => {
        const i = info(vol, r.name, lvm.vg, r);
        return i ? [i] : [];
      })
      .sort((a, b) => a.time.getTime() - b.time.getTime());
  },

  async delete(host, vol, snap, { signal }) {
    const { vg } = parseLvmVolume(vol.volume);
    await runChecked(host, lvremoveCommand(vg, assertBoName(snap.name)), {
      signal,
      what: `lvremove ${vg}/${snap.name}`,
    });
  },

  async mountForRead(host, vol, snap, { signal }) {
    const lvm = parseLvmVolume(vol.volume);
    const livePath = await liveMountPoint(host, vol, signal);
    const fstype = (
      await runChecked(host, fsTypeCommand(lvm.vg, assertBoName(snap.name)), {
        signal,
        what: `blkid of ${snap.ref}`,
      })
    ).trim();
    await runChecked(host, mountCommand(lvm.vg, snap.name, fstype), {
      signal,
      what: `mounting ${snap.ref} read-only`,
    });
    return { path: mountDir(snap.name), livePath };
  },

  async release(host, _vol, snap, { signal }) {
    await runChecked(host, unmountCommand(assertBoName(snap.name)), {
      signal,
      what: `unmounting ${mountDir(snap.name)}`,
    });
  },
};

async function liveMountPoint(host: Host, vol: SnapshotVolume, signal: AbortSignal): Promise<string> {
  if (vol.mountPoint) return normalizeAbs(vol.mountPoint, 'snapshot.mountPoint');
  const found = parseFindmnt(
    await runChecked(host, findMountCommand(parseLvmVolume(vol.volume)), {
      signal,
      what: `findmnt ${vol.volume}`,
    }),
  );
  if (!found)
    throw new BoError(`${vol.volume} is not mounted on ${host.name}`, { hint: 'set snapshot.mountPoint' });
  return found;
}

function info(vol: SnapshotVolume, name: string, vg: string, row?: LvRow): SnapshotInfo | undefined {
  const parsed = parseSnapshotName(name);
  if (!parsed) return undefined;
  const marker = row?.tags.find((t) => t.startsWith(RUN_TAG_PREFIX))?.slice(RUN_TAG_PREFIX.length);
  return {
    provider: 'lvm',
    volume: vol.volume,
    name,
    ...parsed,
    ref: `${vg}/${name}`,
    ...(row ? { size: row.size, usedPercent: row.snapPercent, invalid: isInvalidSnapshot(row), marker } : {}),
  };
}
