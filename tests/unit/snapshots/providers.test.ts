import { describe, expect, it } from 'vitest';
import { SnapshotVolume } from '../../../src/config/schema.ts';
import { BoError, RemoteError } from '../../../src/errors.ts';
import { lvmProvider } from '../../../src/snapshots/lvm.ts';
import { zfsProvider } from '../../../src/snapshots/zfs.ts';
import { recorded, scriptedHost } from './recorded.ts';

const signal = new AbortController().signal;
const lvmVol = SnapshotVolume.parse({ provider: 'lvm', volume: 'vg0/data' });
const zfsVol = SnapshotVolume.parse({ provider: 'zfs', volume: 'tank/data' });

/** The providers' exact command sequences, replayed against recorded tool outputs. */
describe('LVM provider', () => {
  it("lists only the origin's snapshots with bo names, with CoW usage and markers", async () => {
    const host = scriptedHost([{ match: /^lvs /, stdout: recorded('lvs.lvm2-2.03.16.active.json.txt') }]);
    const snaps = await lvmProvider.list(host, lvmVol, { signal });
    expect(snaps.map((s) => [s.ref, s.job, s.size, s.usedPercent, s.invalid, s.marker])).toEqual([
      [
        'vg0/bo-nightly-20261121T020000Z',
        'nightly',
        8388608,
        3.05,
        false,
        '3f9a2c1e-0b7d-4c55-9d0e-2a1c4b7e8f00',
      ],
      ['vg0/bo-data-20261122T020000Z', 'data', 8388608, 12.47, false, undefined],
    ]);
  });

  it('checks the VG has room, then creates the tagged snapshot', async () => {
    const host = scriptedHost([
      { match: /^lvs /, stdout: recorded('lvs.lvm2-2.03.16.active.json.txt') },
      { match: /^vgs /, stdout: recorded('vgs.lvm2-2.03.16.json.txt') },
      { match: /^lvcreate /, stdout: '  Logical volume "bo-data-20261122T030000Z" created.\n' },
    ]);
    const snap = await lvmProvider.create(host, lvmVol, 'bo-data-20261122T030000Z', {
      signal,
      marker: 'run-7',
    });
    expect(host.commands.slice(2)).toEqual([
      'lvcreate -s -n bo-data-20261122T030000Z -l 10%ORIGIN --addtag bo --addtag bo-run=run-7 vg0/data',
    ]);
    expect(snap).toMatchObject({
      ref: 'vg0/bo-data-20261122T030000Z',
      size: 4 * 1024 ** 2, // 10% of the 40 MiB origin, rounded up to one 4 MiB extent
      marker: 'run-7',
    });
  });

  it('refuses to create a snapshot the VG has no room for, before lvcreate', async () => {
    const host = scriptedHost([
      { match: /^lvs /, stdout: recorded('lvs.lvm2-2.03.16.active.json.txt') },
      { match: /^vgs /, stdout: recorded('vgs.lvm2-2.03.16.json.txt') },
    ]);
    const big = SnapshotVolume.parse({ provider: 'lvm', volume: 'vg0/data', size: '64M' });
    await expect(lvmProvider.create(host, big, 'bo-data-20261122T030000Z', { signal })).rejects.toThrow(
      /volume group vg0 has 52 MiB free; the snapshot needs 64 MiB/,
    );
    expect(host.commands.some((c) => c.startsWith('lvcreate'))).toBe(false);
  });

  it('names a missing VG with the tool’s own message', async () => {
    const host = scriptedHost([
      {
        match: /^lvs /,
        stdout: recorded('lvs.lvm2-2.03.16.no-vg.json.txt'),
        stderr: recorded('lvs.lvm2-2.03.16.no-vg.stderr.txt'),
        code: 5,
      },
    ]);
    const vol = SnapshotVolume.parse({ provider: 'lvm', volume: 'nope/data' });
    await expect(lvmProvider.list(host, vol, { signal })).rejects.toThrow(RemoteError);
    await expect(lvmProvider.list(host, vol, { signal })).rejects.toThrow(/Volume group "nope" not found/);
  });

  it('mounts read-only at /run/bo/snapshots (nouuid for XFS), releases and removes', async () => {
    const host = scriptedHost([
      { match: /^findmnt /, stdout: '/srv/data\n' },
      { match: /^blkid /, stdout: 'xfs\n' },
      { match: /^mkdir -p .* && mount / },
      { match: /mountpoint -q/ },
      { match: /^lvremove / },
    ]);
    const [snap] = await lvmProvider.list(
      scriptedHost([{ match: /^lvs /, stdout: recorded('lvs.lvm2-2.03.16.active.json.txt') }]),
      lvmVol,
      { signal },
    );
    const view = await lvmProvider.mountForRead(host, lvmVol, snap!, { signal });
    expect(view).toEqual({ path: '/run/bo/snapshots/bo-nightly-20261121T020000Z', livePath: '/srv/data' });
    await lvmProvider.release(host, lvmVol, snap!, { signal });
    await lvmProvider.delete(host, lvmVol, snap!, { signal });
    expect(host.commands).toEqual([
      'findmnt -r -n -o TARGET -S /dev/vg0/data || true',
      'blkid -o value -s TYPE /dev/vg0/bo-nightly-20261121T020000Z',
      'mkdir -p /run/bo/snapshots/bo-nightly-20261121T020000Z && mount -t xfs -o ro,nouuid /dev/vg0/bo-nightly-20261121T020000Z /run/bo/snapshots/bo-nightly-20261121T020000Z',
      expect.stringMatching(
        /^\[ -d \/run\/bo\/snapshots\/bo-nightly-20261121T020000Z \] \|\| exit 0\n[\s\S]*umount/,
      ),
      'lvremove -f vg0/bo-nightly-20261121T020000Z',
    ]);
  });

  it('asks for mountPoint when the origin is not mounted', async () => {
    const host = scriptedHost([{ match: /^findmnt /, stdout: '' }]);
    const snap = {
      provider: 'lvm' as const,
      volume: 'vg0/data',
      name: 'bo-x-20261122T020000Z',
      job: 'x',
      time: new Date(),
      ref: 'vg0/bo-x-20261122T020000Z',
    };
    await expect(lvmProvider.mountForRead(host, lvmVol, snap, { signal })).rejects.toThrow(BoError);
  });

  it('never deletes a name bo did not create', async () => {
    const host = scriptedHost([{ match: /./ }]);
    const snap = {
      provider: 'lvm' as const,
      volume: 'vg0/data',
      name: 'manual-before-upgrade',
      job: 'x',
      time: new Date(),
      ref: 'vg0/manual-before-upgrade',
    };
    await expect(lvmProvider.delete(host, lvmVol, snap, { signal })).rejects.toThrow(
      /not a snapshot name bo creates/,
    );
    expect(host.commands).toEqual([]);
  });
});

describe('ZFS provider', () => {
  it("lists the dataset's bo snapshots with used bytes and markers", async () => {
    const host = scriptedHost([
      { match: /^zfs list /, stdout: recorded('zfs-list-snapshots.openzfs-2.1.txt') },
    ]);
    const snaps = await zfsProvider.list(host, zfsVol, { signal });
    expect(snaps.map((s) => [s.ref, s.size, s.marker])).toEqual([
      ['tank/data@bo-data-20261121T020000Z', 52400128, undefined],
      ['tank/data@bo-nightly-20261122T013000Z', 8192, '3f9a2c1e-0b7d-4c55-9d0e-2a1c4b7e8f00'],
      ['tank/data@bo-data-20261122T020000Z', 0, undefined],
    ]);
  });

  it('creates, reads through .zfs/snapshot and destroys', async () => {
    const host = scriptedHost([
      { match: /^zfs snapshot / },
      { match: /^zfs get /, stdout: recorded('zfs-get-mountpoint.mounted.txt') },
      { match: /^cd -- / },
      { match: /zfs destroy / },
    ]);
    const snap = await zfsProvider.create(host, zfsVol, 'bo-nightly-20261122T030000Z', {
      signal,
      marker: 'run-9',
    });
    const view = await zfsProvider.mountForRead(host, zfsVol, snap, { signal });
    await zfsProvider.release(host, zfsVol, snap, { signal });
    await zfsProvider.delete(host, zfsVol, snap, { signal });
    expect(view).toEqual({
      path: '/srv/data/.zfs/snapshot/bo-nightly-20261122T030000Z',
      livePath: '/srv/data',
    });
    expect(host.commands).toEqual([
      'zfs snapshot -o bo:run=run-9 tank/data@bo-nightly-20261122T030000Z',
      'zfs get -H -p -o value mountpoint,mounted tank/data',
      'cd -- /srv/data/.zfs/snapshot/bo-nightly-20261122T030000Z',
      expect.stringContaining('{ zfs destroy tank/data@bo-nightly-20261122T030000Z; }'),
    ]);
  });

  it('reports a missing dataset with zfs’s message', async () => {
    const host = scriptedHost([
      { match: /^zfs list /, stderr: recorded('zfs-list.no-dataset.stderr.txt'), code: 1 },
    ]);
    await expect(
      zfsProvider.list(host, SnapshotVolume.parse({ provider: 'zfs', volume: 'tank/nope' }), { signal }),
    ).rejects.toThrow(/cannot open 'tank\/nope': dataset does not exist/);
  });
});
