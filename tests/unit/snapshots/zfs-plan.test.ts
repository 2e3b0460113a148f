import { describe, expect, it } from 'vitest';
import {
  parseZfsList,
  parseZfsMountpoint,
  snapshotReadPath,
  zfsDestroyCommand,
  zfsListCommand,
  zfsMountpointCommand,
  zfsSnapshotCommand,
} from '../../../src/snapshots/zfs-plan.ts';
import { recorded } from './recorded.ts';

describe('ZFS command plans', () => {
  it('snapshots, marks, lists one dataset and destroys exactly one snapshot', () => {
    expect(zfsSnapshotCommand('tank/data', 'bo-data-20261122T020000Z')).toBe(
      'zfs snapshot tank/data@bo-data-20261122T020000Z',
    );
    expect(zfsSnapshotCommand('tank/data', 'bo-n-20261122T020000Z', 'run-1')).toBe(
      'zfs snapshot -o bo:run=run-1 tank/data@bo-n-20261122T020000Z',
    );
    expect(zfsListCommand('tank/data')).toBe(
      'zfs list -H -p -t snapshot -d 1 -s creation -o name,used,creation,bo:run tank/data',
    );
    expect(zfsDestroyCommand('tank/data', 'bo-data-20261122T020000Z')).toContain(
      '{ zfs destroy tank/data@bo-data-20261122T020000Z; }',
    );
    expect(zfsMountpointCommand('tank/data')).toBe('zfs get -H -p -o value mountpoint,mounted tank/data');
  });

  it('refuses dataset names that are not datasets', () => {
    for (const bad of ['tank/data@snap', '/tank/data', 'tank//data', "tank/da'ta", 'tank/da ta']) {
      expect(() => zfsListCommand(bad)).toThrow(/dataset/);
    }
  });

  it('reads snapshots through .zfs/snapshot', () => {
    expect(snapshotReadPath('/srv/data', 'bo-x-20261122T020000Z')).toBe(
      '/srv/data/.zfs/snapshot/bo-x-20261122T020000Z',
    );
    expect(snapshotReadPath('/', 'bo-x-20261122T020000Z')).toBe('/.zfs/snapshot/bo-x-20261122T020000Z');
  });
});

describe('ZFS output parsing', () => {
  it("keeps only bo's snapshots of the dataset, with used bytes and the run marker", () => {
    const rows = parseZfsList(recorded('zfs-list-snapshots.openzfs-2.1.txt'), 'tank/data');
    expect(rows).toEqual([
      {
        name: 'bo-data-20261121T020000Z',
        job: 'data',
        time: new Date('2026-11-21T02:00:00Z'),
        used: 52400128,
        marker: undefined,
      },
      {
        name: 'bo-nightly-20261122T013000Z',
        job: 'nightly',
        time: new Date('2026-11-22T01:30:00Z'),
        used: 8192,
        marker: '3f9a2c1e-0b7d-4c55-9d0e-2a1c4b7e8f00',
      },
      {
        name: 'bo-data-20261122T020000Z',
        job: 'data',
        time: new Date('2026-11-22T02:00:00Z'),
        used: 0,
        marker: undefined,
      },
    ]);
  });

  it('ignores snapshots of other datasets', () => {
    expect(parseZfsList('tank/data/sub@bo-data-20261122T020000Z\t0\t1\t-\n', 'tank/data')).toEqual([]);
    expect(parseZfsList('tank/dat@bo-data-20261122T020000Z\t0\t1\t-\n', 'tank/data')).toEqual([]);
  });

  it('finds where a dataset is mounted', () => {
    expect(parseZfsMountpoint(recorded('zfs-get-mountpoint.mounted.txt'), 'tank/data')).toBe('/srv/data');
    expect(() => parseZfsMountpoint(recorded('zfs-get-mountpoint.legacy.txt'), 'tank/data')).toThrow(
      /mountpoint=legacy/,
    );
    expect(parseZfsMountpoint(recorded('zfs-get-mountpoint.legacy.txt'), 'tank/data', '/mnt/data')).toBe(
      '/mnt/data',
    );
    expect(() => parseZfsMountpoint('/srv/data\nno\n', 'tank/data')).toThrow(/not mounted/);
  });
});
