import { describe, expect, it } from 'vitest';
import {
  checkRoom,
  fsTypeCommand,
  isInvalidSnapshot,
  lvcreateCommand,
  lvremoveCommand,
  lvsCommand,
  mountCommand,
  parseFindmnt,
  parseLvmVolume,
  parseLvs,
  parseVgs,
  planCow,
  unmountCommand,
  vgsCommand,
} from '../../../src/snapshots/lvm-plan.ts';
import { recorded } from './recorded.ts';

const MiB = 1024 ** 2;

describe('LVM command plans', () => {
  it('reports with lvs/vgs in JSON, bytes without suffix', () => {
    expect(lvsCommand('vg0')).toBe(
      'lvs --reportformat json --units b --nosuffix -o lv_name,vg_name,lv_size,lv_attr,origin,lv_tags,snap_percent vg0',
    );
    expect(vgsCommand('vg0')).toBe(
      'vgs --reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free,vg_extent_size vg0',
    );
  });

  it('creates a tagged snapshot with a percentage or absolute CoW size', () => {
    const vol = parseLvmVolume('vg0/data');
    const pct = planCow('10%', 1024 * MiB, 4 * MiB);
    expect(lvcreateCommand({ vol, name: 'bo-data-20261122T020000Z', cow: pct })).toBe(
      'lvcreate -s -n bo-data-20261122T020000Z -l 10%ORIGIN --addtag bo vg0/data',
    );
    const abs = planCow('5G', 1024 * MiB, 4 * MiB);
    expect(lvcreateCommand({ vol, name: 'bo-nightly-20261122T020000Z', cow: abs, marker: 'run-1' })).toBe(
      'lvcreate -s -n bo-nightly-20261122T020000Z -L 5368709120b --addtag bo --addtag bo-run=run-1 vg0/data',
    );
    expect(lvremoveCommand('vg0', 'bo-data-20261122T020000Z')).toBe(
      'lvremove -f vg0/bo-data-20261122T020000Z',
    );
  });

  it('rounds the CoW space up to whole extents', () => {
    expect(planCow('10%', 1024 * MiB, 4 * MiB).bytes).toBe(104 * MiB); // 102.4 MiB → 26 extents
    expect(planCow('1M', 1024 * MiB, 4 * MiB).bytes).toBe(4 * MiB);
    expect(planCow('512m', 1024 * MiB, 4 * MiB)).toEqual({ args: ['-L', `${512 * MiB}b`], bytes: 512 * MiB });
    expect(() => planCow('0%', MiB, MiB)).toThrow(/above 0%/);
    expect(() => planCow('150%', MiB, MiB)).toThrow(/at most 100%/);
    expect(() => planCow('lots', MiB, MiB)).toThrow(/invalid lvm snapshot size/);
  });

  it('mounts read-only, XFS with nouuid, and unmounts idempotently', () => {
    expect(fsTypeCommand('vg0', 'bo-x-20261122T020000Z')).toBe(
      'blkid -o value -s TYPE /dev/vg0/bo-x-20261122T020000Z',
    );
    expect(mountCommand('vg0', 'bo-x-20261122T020000Z', 'xfs')).toBe(
      'mkdir -p /run/bo/snapshots/bo-x-20261122T020000Z && mount -t xfs -o ro,nouuid /dev/vg0/bo-x-20261122T020000Z /run/bo/snapshots/bo-x-20261122T020000Z',
    );
    expect(mountCommand('vg0', 'bo-x-20261122T020000Z', 'ext4')).toContain('mount -t ext4 -o ro /dev/vg0/');
    const unmount = unmountCommand('bo-x-20261122T020000Z');
    expect(unmount).toMatch(/^\[ -d \/run\/bo\/snapshots\/bo-x-20261122T020000Z \] \|\| exit 0\n/);
    expect(unmount).toContain('umount /run/bo/snapshots/bo-x-20261122T020000Z;');
    expect(unmount).toMatch(/\*busy\*.*sleep 2/); // "target is busy" is retried
    expect(unmount).toMatch(/rmdir \/run\/bo\/snapshots\/bo-x-20261122T020000Z 2>\/dev\/null; exit 0$/);
  });

  it('accepts VG/LV and /dev/VG/LV, nothing else', () => {
    expect(parseLvmVolume('/dev/vg0/data')).toEqual({ vg: 'vg0', lv: 'data' });
    for (const bad of ['data', 'vg0/data/x', 'vg0/da ta', 'vg0/-data', "vg0/a'b"])
      expect(() => parseLvmVolume(bad)).toThrow(/VG\/LV/);
  });
});

describe('LVM report parsing (recorded lvm2 2.03.16 output)', () => {
  it('reads every LV with sizes in bytes, tags and origin', () => {
    const rows = parseLvs(recorded('lvs.lvm2-2.03.16.inactive.json.txt'));
    expect(rows.map((r) => r.name)).toEqual([
      'bo-data-20261122T020000Z',
      'bo-nightly-20261121T020000Z',
      'data',
      'manual-before-upgrade',
      'root',
    ]);
    expect(rows[1]).toEqual({
      name: 'bo-nightly-20261121T020000Z',
      vg: 'vg0',
      size: 8388608,
      attr: 'swi-XXs---',
      origin: 'data',
      tags: ['bo', 'bo-run=3f9a2c1e-0b7d-4c55-9d0e-2a1c4b7e8f00'],
      snapPercent: undefined,
    });
    expect(rows[2]).toMatchObject({ name: 'data', size: 41943040, origin: '', tags: [] });
  });

  it('reads CoW usage and recognises an invalidated snapshot', () => {
    const rows = parseLvs(recorded('lvs.lvm2-2.03.16.active.json.txt'));
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get('bo-data-20261122T020000Z')!.snapPercent).toBe(12.47);
    expect(isInvalidSnapshot(byName.get('bo-data-20261122T020000Z')!)).toBe(false);
    expect(isInvalidSnapshot(byName.get('manual-before-upgrade')!)).toBe(true);
    expect(isInvalidSnapshot(byName.get('data')!)).toBe(false);
  });

  it('reads an empty report for a missing VG', () => {
    expect(parseLvs(recorded('lvs.lvm2-2.03.16.no-vg.json.txt'))).toEqual([]);
  });

  it('reads the VG size, free space and extent size', () => {
    expect(parseVgs(recorded('vgs.lvm2-2.03.16.json.txt'))).toEqual([
      { name: 'vg0', size: 205520896, free: 54525952, extentSize: 4194304 },
    ]);
  });

  it('checks the VG has room for the CoW space', () => {
    const [vg] = parseVgs(recorded('vgs.lvm2-2.03.16.json.txt'));
    expect(() => checkRoom(vg!, planCow('10%', 41943040, vg!.extentSize), '10%')).not.toThrow();
    expect(() => checkRoom(vg!, planCow('1G', 41943040, vg!.extentSize), '1G')).toThrow(
      'volume group vg0 has 52 MiB free; the snapshot needs 1.0 GiB (size 1G)',
    );
  });

  it('rejects output that is not an LVM JSON report', () => {
    expect(() => parseLvs('  LV   VG   Attr\n')).toThrow(/not JSON/);
    expect(() => parseLvs('{"report":[{"lv":[{"lv_name":"x","lv_size":"1.00g"}]}]}')).toThrow(
      /expected bytes/,
    );
  });

  it('unescapes findmnt targets', () => {
    expect(parseFindmnt('/srv/my\\x20data\n/mnt/other\n')).toBe('/srv/my data');
    expect(parseFindmnt('')).toBeUndefined();
  });
});
