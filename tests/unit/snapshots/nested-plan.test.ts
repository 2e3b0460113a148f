import { describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { boSnapshotDirs, literalExclude, snapshotDirsToExclude } from '../../../src/snapshots/bo-dirs.ts';
import { isExcluded, parseMountPoints, parseNestedCheck } from '../../../src/snapshots/nested-plan.ts';

const MOUNTINFO = [
  '22 1 0:21 / / rw,relatime shared:1 - btrfs /dev/sda2 rw',
  '35 22 0:31 / /srv/data rw,relatime shared:2 - btrfs /dev/sdb1 rw,subvolid=256,subvol=/data',
  '36 35 0:32 / /srv/data/www/tmp rw shared:3 - tmpfs tmpfs rw',
  '37 35 0:33 / /srv/data/my\\040mail rw shared:4 - ext4 /dev/sdc1 rw',
  '38 22 0:34 / /run/bo/snapshots/bo-x-20261122T020000Z ro shared:5 - ext4 /dev/vg0/bo-x rw',
].join('\n');

describe('nested volume check', () => {
  it('reads mount points from mountinfo, unescaping octal', () => {
    expect(parseMountPoints(MOUNTINFO)).toEqual([
      '/',
      '/srv/data',
      '/srv/data/www/tmp',
      '/srv/data/my mail',
      '/run/bo/snapshots/bo-x-20261122T020000Z',
    ]);
  });

  it('reports mounts and subvolumes strictly below the paths, outermost only, minus ignored ones', () => {
    const out = `mountinfo\0${MOUNTINFO}\n\0subvol\0/srv/data/www/nested\0subvol\0/srv/data/www/nested/deeper\0subvol\0/srv/data/.bo-snapshots\0`;
    const found = parseNestedCheck(out, ['/srv/data/www', '/srv/data/my mail'], (p) =>
      p.startsWith('/srv/data/.bo-snapshots'),
    );
    expect(found).toEqual([
      { path: '/srv/data/www/nested', kind: 'subvolume', under: '/srv/data/www' },
      { path: '/srv/data/www/tmp', kind: 'mount', under: '/srv/data/www' },
    ]);
    expect(parseNestedCheck(out, ['/srv/data'], () => false).map((n) => n.path)).toEqual([
      '/srv/data/.bo-snapshots',
      '/srv/data/my mail',
      '/srv/data/www/nested',
      '/srv/data/www/tmp',
    ]);
  });

  it('matches excludes as tar does: absolute anchored, others at any depth, * within one name', () => {
    expect(isExcluded('/srv/data/www/tmp', ['/srv/data/www/tmp'])).toBe(true);
    expect(isExcluded('/srv/data/www/tmp/x', ['/srv/data/www'])).toBe(true);
    expect(isExcluded('/srv/data/www2', ['/srv/data/www'])).toBe(false);
    expect(isExcluded('/srv/data/www/tmp', ['tmp'])).toBe(true);
    expect(isExcluded('/srv/data/www/tmp', ['/srv/*/tmp'])).toBe(false);
    expect(isExcluded('/srv/data/tmp', ['/srv/*/tmp'])).toBe(true);
    expect(isExcluded('/srv/data/a*b', [literalExclude('/srv/data/a*b')])).toBe(true);
    expect(isExcluded('/srv/data/axb', [literalExclude('/srv/data/a*b')])).toBe(false);
  });
});

describe("bo's snapshot directories", () => {
  const config = parseResolved(Config, {
    storage: { repo: { type: 'filesystem', path: '/var/backups/bo' } },
    jobs: {
      hourly: { kind: 'snapshot', host: 'local', provider: 'btrfs', volume: '/srv/data' },
      other: {
        kind: 'snapshot',
        host: 'local',
        provider: 'btrfs',
        volume: '/srv/x',
        snapshotDir: '/snaps/x',
      },
      root: {
        host: 'local',
        paths: ['/'],
        storage: 'repo',
        snapshot: { provider: 'lvm', volume: 'vg0/root', mountPoint: '/' },
      },
      live: { host: 'local', paths: ['/srv'], storage: 'repo' },
    },
  });

  it('lists every btrfs snapshot directory and the LVM mount root on the host', () => {
    expect(boSnapshotDirs(config, 'local')).toEqual([
      '/run/bo/snapshots',
      '/snaps/x',
      '/srv/data/.bo-snapshots',
    ]);
    expect(boSnapshotDirs(config, 'files1')).toEqual([]);
  });

  it('excludes only those within the backup paths (not when a path is inside one)', () => {
    const dirs = boSnapshotDirs(config, 'local');
    expect(snapshotDirsToExclude(dirs, ['/srv'])).toEqual(['/srv/data/.bo-snapshots']);
    expect(snapshotDirsToExclude(dirs, ['/srv/data/.bo-snapshots/bo-hourly-20261122T020000Z'])).toEqual([]);
    expect(snapshotDirsToExclude(dirs, ['/'])).toEqual(dirs);
  });
});
