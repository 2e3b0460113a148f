import { describe, expect, it } from 'vitest';
import { problemsOf } from './problems.ts';

const config = (jobs: string, health = '') => `
storage: { fs: { type: filesystem, path: /srv/repo } }
jobs:
${jobs}
${health}`;

describe('snapshot volume rules', () => {
  it('accept the documented volume forms', () => {
    expect(
      problemsOf(
        config(`
  a: { kind: snapshot, host: local, provider: lvm, volume: vg0/data, size: 5G, mountPoint: /srv/data }
  b: { kind: snapshot, host: local, provider: lvm, volume: /dev/vg0/data }
  c: { kind: snapshot, host: local, provider: zfs, volume: tank/data, mountPoint: /tank/data }
  d: { kind: snapshot, host: local, provider: btrfs, volume: /srv/data, snapshotDir: /srv/.snaps }
  e: { host: local, paths: [/srv/data, /srv/data/www], storage: fs, snapshot: { provider: btrfs, volume: /srv/data/ } }
  f: { host: local, paths: [/etc], storage: fs, snapshot: { provider: zfs, volume: tank/root } }
  g: { host: local, paths: [/etc, /var], storage: fs, snapshot: { provider: lvm, volume: vg0/root, mountPoint: / } }`),
      ),
    ).toEqual([]);
  });

  it('reject volumes the provider cannot name, before anything runs', () => {
    expect(
      problemsOf(
        config(`
  a: { kind: snapshot, host: local, provider: lvm, volume: data }
  b: { kind: snapshot, host: local, provider: zfs, volume: /tank/data }
  c: { kind: snapshot, host: local, provider: btrfs, volume: srv/data }
  d: { kind: snapshot, host: local, provider: btrfs, volume: /srv, snapshotDir: snaps, mountPoint: /srv }
  e: { kind: snapshot, host: local, provider: zfs, volume: tank/data, mountPoint: tank }
  f: { host: local, paths: [/srv], storage: fs, snapshot: { provider: zfs, volume: tank@x } }`),
      ),
    ).toEqual([
      'jobs.a.volume: lvm volume must be VG/LV, e.g. vg0/data; got "data"',
      'jobs.b.volume: zfs volume must be a dataset such as tank/data; got "/tank/data"',
      'jobs.c.volume: btrfs volume must be an absolute path, got "srv/data"',
      'jobs.d.mountPoint: mountPoint applies to lvm and zfs only',
      'jobs.d.snapshotDir: snapshotDir must be an absolute path, got "snaps"',
      'jobs.e.mountPoint: mountPoint must be an absolute path, got "tank"',
      'jobs.f.snapshot.volume: zfs volume must be a dataset such as tank/data; got "tank@x"',
    ]);
  });

  it('reject backup paths that are not on the snapshot volume, when its mount point is known', () => {
    expect(
      problemsOf(
        config(`
  a: { host: local, paths: [/etc, /srv/data/x, /srv/database], storage: fs, snapshot: { provider: btrfs, volume: /srv/data } }
  b: { host: local, paths: [/etc], storage: fs, snapshot: { provider: lvm, volume: vg0/data, mountPoint: /srv/data } }
  c: { host: local, paths: [/etc], storage: fs, compression: lz4, snapshot: { provider: btrfs, volume: /srv } }`),
      ),
    ).toEqual([
      'jobs.a.paths.0: /etc is not on the snapshot volume /srv/data: a consistent backup reads every path from the snapshot',
      'jobs.a.paths.2: /srv/database is not on the snapshot volume /srv/data: a consistent backup reads every path from the snapshot',
      'jobs.b.paths.0: /etc is not on the snapshot volume vg0/data (mounted at /srv/data): a consistent backup reads every path from the snapshot',
      'jobs.c.compression: expected one of zstd, gzip or none, got "lz4"',
      'jobs.c.paths.0: /etc is not on the snapshot volume /srv: a consistent backup reads every path from the snapshot',
    ]);
  });
});

describe('health check rules', () => {
  it('compile tcp banner regular expressions', () => {
    const checks = (banner: string) =>
      problemsOf(
        config('  {}', `health: { checks: [{ check: tcp, port: 25, banner: ${JSON.stringify(banner)} }] }`),
      );
    expect(checks('^220 ')).toEqual([]);
    expect(checks('^SSH-2\\.0-')).toEqual([]);
    expect(checks('([')).toEqual([
      'health.checks.0.banner: not a valid regular expression: /([/: Unterminated character class',
    ]);
    expect(checks('a{2,1}')).toEqual([
      expect.stringMatching(/^health\.checks\.0\.banner: not a valid regular expression: .*out of order/),
    ]);
  });
});
