import { describe, expect, it } from 'vitest';
import {
  btrfsCreateCommand,
  btrfsDeleteCommand,
  btrfsDuCommand,
  btrfsListCommand,
  btrfsSnapshotDir,
  parseBtrfsDu,
  parseBtrfsList,
  parseQgroups,
} from '../../../src/snapshots/btrfs-plan.ts';
import { recorded } from './recorded.ts';

describe('btrfs command plans', () => {
  it('puts snapshots in <volume>/.bo-snapshots unless told otherwise', () => {
    expect(btrfsSnapshotDir('/srv/data/')).toBe('/srv/data/.bo-snapshots');
    expect(btrfsSnapshotDir('/srv/data', '/srv/snaps/')).toBe('/srv/snaps');
    expect(() => btrfsSnapshotDir('srv/data')).toThrow(/absolute/);
  });

  it('creates a read-only snapshot, checking the volume and refusing an existing target', () => {
    const cmd = btrfsCreateCommand({
      volume: '/srv/my data',
      dir: '/srv/my data/.bo-snapshots',
      name: 'bo-x-20261122T020000Z',
      marker: 'run-1',
    });
    expect(cmd).toContain("stat -f -c %T -- '/srv/my data'");
    expect(cmd).toContain("btrfs subvolume create -- '/srv/my data/.bo-snapshots'");
    expect(cmd).toContain("if [ -e '/srv/my data/.bo-snapshots/bo-x-20261122T020000Z' ]; then");
    expect(cmd).toContain(
      "printf '%s\\n' run-1 > '/srv/my data/.bo-snapshots/.bo-x-20261122T020000Z.bo-run'",
    );
    expect(cmd).toContain(
      "btrfs subvolume snapshot -r -- '/srv/my data' '/srv/my data/.bo-snapshots/bo-x-20261122T020000Z'",
    );
    expect(btrfsCreateCommand({ volume: '/v', dir: '/v/.s', name: 'bo-x-20261122T020000Z' })).not.toContain(
      'printf',
    );
  });

  it('deletes only a subvolume, never with rm -r', () => {
    const cmd = btrfsDeleteCommand('/v/.bo-snapshots', 'bo-x-20261122T020000Z');
    expect(cmd).toContain('btrfs subvolume delete -- bo-x-20261122T020000Z');
    expect(cmd).toContain('rm -f -- .bo-x-20261122T020000Z.bo-run');
    expect(cmd).not.toMatch(/\brm( -[a-z]+)* -[a-z]*[rR]/);
  });

  it('lists NUL-separated records, so any file name is harmless', () => {
    expect(btrfsListCommand('/v/.bo-snapshots')).toContain("printf 'snap\\0%s\\0%s\\0%s\\0'");
  });
});

describe('btrfs list parsing', () => {
  it('keeps bo names, with subvolume id, marker and exclusive size from qgroups', () => {
    const out = [
      'snap',
      'bo-data-20261122T020000Z',
      '257',
      '',
      'snap',
      'bo-nightly-20261122T013000Z',
      '258',
      'run-1\n',
      'snap',
      'bo-not-a-time',
      '259',
      '',
      'snap',
      'bo-data-20261122T020000Z\nsnap',
      '260',
      '',
      'qgroups',
      'Qgroupid Referenced Exclusive Path\n-------- ---------- --------- ----\n0/257 16384 4096 vol\n0/258 16384 8192 s\n',
      '',
    ].join('\0');
    const { entries, exclusive } = parseBtrfsList(out);
    expect(entries).toEqual([
      {
        name: 'bo-data-20261122T020000Z',
        job: 'data',
        time: new Date('2026-11-22T02:00:00Z'),
        id: 257,
        marker: undefined,
      },
      {
        name: 'bo-nightly-20261122T013000Z',
        job: 'nightly',
        time: new Date('2026-11-22T01:30:00Z'),
        id: 258,
        marker: 'run-1',
      },
    ]);
    expect([...exclusive]).toEqual([
      [257, 4096],
      [258, 8192],
    ]);
  });

  it('reads the recorded btrfs-progs 6.2 qgroup table', () => {
    expect([...parseQgroups(recorded('btrfs-qgroup-show.btrfs-progs-6.2.txt'))]).toEqual([
      [5, 16384],
      [256, 16384],
      [257, 16384],
    ]);
  });

  it('treats empty output (no snapshot directory yet) as no snapshots', () => {
    expect(parseBtrfsList('').entries).toEqual([]);
  });
});

describe('btrfs filesystem du (recorded btrfs-progs 6.2 output)', () => {
  it('reads the exclusive bytes of each snapshot', () => {
    expect([...parseBtrfsDu(recorded('btrfs-fi-du.btrfs-progs-6.2.txt'))]).toEqual([
      ['bo-www-20261122T020000Z', 1048576],
      ['bo-www-20261122T030000Z', 0],
    ]);
    expect(btrfsDuCommand('/srv/data/.bo-snapshots', ['bo-www-20261122T020000Z'])).toBe(
      'cd -- /srv/data/.bo-snapshots && btrfs filesystem du -s --raw -- bo-www-20261122T020000Z',
    );
  });
});
