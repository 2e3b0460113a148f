import { describe, expect, it } from 'vitest';
import { parseBtrfsProbe } from '../../../src/health/parsers/btrfs.ts';
import {
  DF_INODES_MARK,
  parseDf,
  parseDfInodes,
  parseDfOutput,
  parseDfSpace,
  usedPercent,
} from '../../../src/health/parsers/df.ts';
import { parseMailQueue } from '../../../src/health/parsers/mailqueue.ts';
import { parseMdstat } from '../../../src/health/parsers/mdstat.ts';
import { parseLoad, parseMeminfo, parseUptime } from '../../../src/health/parsers/proc.ts';
import { smartVerdict, splitSmartDevices } from '../../../src/health/parsers/smartctl.ts';
import {
  parseChronyTracking,
  parseFailedUnits,
  parseIsActive,
  parseProperties,
} from '../../../src/health/parsers/systemd.ts';
import { parseZpoolStatusX } from '../../../src/health/parsers/zpool.ts';
import { fx } from './fixture.ts';

describe('df', () => {
  it('parses df -PT -B1 captured on Debian 12, btrfs loop mount included', () => {
    const rows = parseDfSpace(fx('df-PT-B1.debian12.txt'));
    expect(rows.map((r) => r.mount)).toEqual(['/dev', '/dev/shm', '/', '/sys/fs/cgroup', '/tmp/btm']);
    const root = rows.find((r) => r.mount === '/')!;
    expect(root).toMatchObject({ filesystem: '/dev/vda', type: 'ext4', size: 270553174016 });
    expect(root.used + root.avail).toBeLessThan(root.size); // reserved blocks
    expect(rows.find((r) => r.mount === '/tmp/btm')?.type).toBe('btrfs');
  });

  it('keeps mount points with spaces and skips junk lines', () => {
    const rows = parseDfSpace(
      'Filesystem Type 1-blocks Used Available Capacity Mounted on\n/dev/sdb1 ext4 1000 250 750 25% /mnt/my disk\ngarbage\n',
    );
    expect(rows).toEqual([
      { filesystem: '/dev/sdb1', type: 'ext4', size: 1000, used: 250, avail: 750, mount: '/mnt/my disk' },
    ]);
  });

  it('computes used % as df does (used / (used + available))', () => {
    expect(usedPercent(93, 2)).toBeCloseTo(97.89, 1);
    expect(usedPercent(0, 0)).toBe(0);
  });

  it('parses df -PTi; btrfs reports no inode counts', () => {
    const rows = parseDfInodes(fx('df-PTi.debian12.txt'));
    expect(rows.find((r) => r.mount === '/')).toMatchObject({ type: 'ext4', inodes: 16777216 });
    expect(rows.find((r) => r.mount === '/tmp/btm')).toMatchObject({ type: 'btrfs', inodes: 0 });
  });

  it('parses one df --output run into both tables (captured on Debian 12, btrfs loop mount included)', () => {
    const { space, inodes } = parseDf(fx('df-output.debian12.txt'));
    expect(space.map((r) => r.mount)).toEqual(['/dev', '/dev/shm', '/', '/sys/fs/cgroup', '/tmp/btm-fx']);
    expect(space.find((r) => r.mount === '/')).toEqual({
      filesystem: '/dev/vda',
      type: 'ext4',
      size: 270553174016,
      used: 48919453696,
      avail: 60024840192,
      mount: '/',
    });
    expect(inodes.find((r) => r.mount === '/')).toMatchObject({
      inodes: 16777216,
      used: 748403,
      free: 16028813,
    });
    expect(inodes.find((r) => r.mount === '/tmp/btm-fx')).toMatchObject({ type: 'btrfs', inodes: 0 });
    // "-" (no count) is 0; mount points keep their spaces.
    const odd = parseDfOutput(
      'Filesystem Type 1B-blocks Used Avail Inodes IUsed IFree Mounted on\nsrv:/x nfs4 1000 250 750 - - - /mnt/my disk\n',
    );
    expect(odd.inodes).toEqual([
      { filesystem: 'srv:/x', type: 'nfs4', inodes: 0, used: 0, free: 0, mount: '/mnt/my disk' },
    ]);
  });

  it('parses the POSIX fallback (df without --output): space, marker, inodes', () => {
    const text = `${fx('df-PT-B1.debian12.txt')}${DF_INODES_MARK}\n${fx('df-PTi.debian12.txt')}`;
    const { space, inodes } = parseDf(text);
    expect(space).toEqual(parseDfSpace(fx('df-PT-B1.debian12.txt')));
    expect(inodes).toEqual(parseDfInodes(fx('df-PTi.debian12.txt')));
  });
});

describe('mdstat', () => {
  it('healthy raid1 arrays', () => {
    const md = parseMdstat(fx('mdstat.raid1-ok.txt'));
    expect(md.personalities).toContain('raid1');
    expect(md.arrays.map((a) => [a.name, a.level, a.expected, a.working, a.map])).toEqual([
      ['md0', 'raid1', 2, 2, 'UU'],
      ['md1', 'raid1', 2, 2, 'UU'],
    ]);
  });

  it('failed member and a missing one', () => {
    const [md0, md1] = parseMdstat(fx('mdstat.raid1-degraded.txt')).arrays;
    expect(md0!.devices).toEqual([
      { name: 'sdb1', failed: true, spare: false },
      { name: 'sda1', failed: false, spare: false },
    ]);
    expect(md1).toMatchObject({ working: 1, expected: 2, map: 'U_' });
  });

  it('recovery progress, check, DELAYED and inactive spares', () => {
    expect(parseMdstat(fx('mdstat.raid5-recovery.txt')).arrays[0]).toMatchObject({
      name: 'md127',
      level: 'raid5',
      map: 'UUU_',
      sync: { action: 'recovery', percent: 17.3, finishMinutes: 301.4 },
    });
    const [a, b] = parseMdstat(fx('mdstat.raid1-check-and-delayed.txt')).arrays;
    expect(a!.sync).toEqual({ action: 'resync', state: 'delayed' });
    expect(b!.sync).toMatchObject({ action: 'check', percent: 38.2 });
    expect(parseMdstat(fx('mdstat.inactive.txt')).arrays[0]).toMatchObject({
      active: false,
      devices: [{ name: 'sdc1', spare: true, failed: false }],
    });
    expect(parseMdstat(fx('mdstat.no-arrays.txt')).arrays).toEqual([]);
  });
});

describe('smartctl -H', () => {
  it.each([
    ['smartctl-H.ata-passed.txt', 0, 'passed'],
    ['smartctl-H.nvme-passed.txt', 0, 'passed'],
    ['smartctl-H.scsi-ok.txt', 0, 'passed'],
    ['smartctl-H.ata-failed.txt', 8, 'failed'],
    ['smartctl-H.permission.txt', 2, 'denied'],
    ['smartctl-H.usb-bridge.txt', 1, 'unknown'],
  ])('%s (exit %i) → %s', (file, code, health) => {
    expect(smartVerdict(fx(file), code).health).toBe(health);
  });

  it('trusts the "disk failing" exit bit even when the text says PASSED', () => {
    expect(smartVerdict(fx('smartctl-H.ata-passed.txt'), 8).health).toBe('failed');
  });

  it('names the USB bridge problem', () => {
    expect(smartVerdict(fx('smartctl-H.usb-bridge.txt'), 1).detail).toMatch(/Unknown USB bridge/);
  });

  it('splits the probe output per device', () => {
    const text = `@@bo-dev /dev/sda\n${fx('smartctl-H.ata-passed.txt')}@@bo-dev-rc 0\n@@bo-dev /dev/sdb\n${fx('smartctl-H.ata-failed.txt')}@@bo-dev-rc 8\n`;
    expect(splitSmartDevices(text).map((d) => [d.device, d.code])).toEqual([
      ['/dev/sda', 0],
      ['/dev/sdb', 8],
    ]);
  });
});

describe('zpool status -x', () => {
  it('healthy and no pools', () => {
    expect(parseZpoolStatusX(fx('zpool-status-x.healthy.txt'))).toEqual({ kind: 'healthy' });
    expect(parseZpoolStatusX(fx('zpool-status-x.no-pools.txt'))).toEqual({ kind: 'no-pools' });
  });

  it('a degraded mirror and a pool with data errors', () => {
    const s = parseZpoolStatusX(fx('zpool-status-x.degraded.txt'));
    expect(s.kind).toBe('problems');
    if (s.kind !== 'problems') return;
    expect(s.pools.map((p) => [p.pool, p.state, p.errors])).toEqual([
      ['tank', 'DEGRADED', 'No known data errors'],
      ['backup', 'ONLINE', "2 data errors, use '-v' for a list"],
    ]);
    expect(s.pools[0]!.status).toMatch(/label is missing or invalid\. +Sufficient replicas/);
    expect(s.pools[0]!.action).toBe("Replace the device using 'zpool replace'.");
  });
});

describe('btrfs device stats', () => {
  it('clean (captured) and with errors, per mount', () => {
    const clean = parseBtrfsProbe(`@@bo-mnt /tmp/btm\n${fx('btrfs-device-stats.clean.txt')}`);
    expect(clean.devices).toEqual([
      {
        device: '/dev/loop0',
        mount: '/tmp/btm',
        counters: {
          write_io_errs: 0,
          read_io_errs: 0,
          flush_io_errs: 0,
          corruption_errs: 0,
          generation_errs: 0,
        },
      },
    ]);
    const bad = parseBtrfsProbe(
      `@@bo-mnt /srv\n${fx('btrfs-device-stats.errors.txt')}@@bo-mnt /mnt/x\nERROR: cannot check /mnt/x: Permission denied\n`,
    );
    expect(bad.devices.find((d) => d.device === '/dev/sdc')?.counters).toMatchObject({
      write_io_errs: 12,
      corruption_errs: 7,
    });
    expect(bad.failures).toEqual([
      { mount: '/mnt/x', reason: 'ERROR: cannot check /mnt/x: Permission denied' },
    ]);
    expect(bad.mounts).toBe(2);
  });
});

describe('mail queue', () => {
  it('postqueue -j sample plus the host-side summary', () => {
    const q = parseMailQueue(`@@bo-mta postfix\n${fx('postqueue-j.txt')}@@bo-count 1234 1200 1763703600\n`);
    expect(q).toMatchObject({ mta: 'postfix', count: 1234, deferred: 1200, oldest: 1763703600 });
    if (q.mta !== 'postfix') return;
    expect(q.reasons[0]).toEqual({
      reason: 'connect to mail.example.net[203.0.113.25]:25: Connection timed out',
      count: 3,
    });
  });

  it('an empty queue, exim, no MTA, and postfix down', () => {
    expect(parseMailQueue('@@bo-mta postfix\n@@bo-count 0 0 \n')).toMatchObject({ mta: 'postfix', count: 0 });
    expect(parseMailQueue(`@@bo-mta exim\n${fx('exim-bpc.txt')}`)).toMatchObject({ mta: 'exim', count: 37 });
    expect(parseMailQueue('@@bo-mta none\n')).toEqual({ mta: 'none' });
    expect(
      parseMailQueue(
        '@@bo-mta postfix\npostqueue: fatal: Queue report unavailable - mail system is down\n@@bo-count 0 0 \n',
      ),
    ).toEqual({ mta: 'error', reason: 'postqueue: fatal: Queue report unavailable - mail system is down' });
  });
});

describe('/proc', () => {
  it('nproc + loadavg, meminfo, uptime (captured)', () => {
    expect(parseLoad(fx('nproc-loadavg.txt'))).toEqual({ cores: 2, load1: 1.81, load5: 1, load15: 0.55 });
    const m = parseMeminfo(fx('meminfo.noswap.txt'))!;
    expect(m.totalBytes).toBe(24684092 * 1024);
    expect(m.swapTotalBytes).toBe(0);
    expect(parseUptime(fx('uptime.txt'))).toBeCloseTo(10825.34);
    expect(parseLoad('garbage')).toBeUndefined();
  });

  it('falls back to free + buffers + cached before MemAvailable existed (Linux < 3.14)', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n')!;
    expect(m.availableBytes).toBe(400 * 1024);
  });
});

describe('systemd', () => {
  it('failed units: plain, with bullet, JSON', () => {
    expect(parseFailedUnits(fx('systemctl-failed.plain.txt')).map((u) => u.unit)).toEqual([
      'certbot.service',
      'postfix@-.service',
    ]);
    expect(parseFailedUnits(fx('systemctl-failed.bullet.txt'))[0]).toMatchObject({
      unit: 'certbot.service',
      active: 'failed',
    });
    expect(parseFailedUnits(fx('systemctl-failed.json.txt'))[1]).toMatchObject({
      unit: 'postfix@-.service',
      description: 'Postfix Mail Transport Agent (instance -)',
    });
    expect(parseFailedUnits('')).toEqual([]);
  });

  it('is-active lines map to the units in order', () => {
    expect(parseIsActive(['a.service', 'b.service', 'c.service'], fx('systemctl-is-active.txt'))).toEqual([
      { unit: 'a.service', state: 'active' },
      { unit: 'b.service', state: 'inactive' },
      { unit: 'c.service', state: 'failed' },
    ]);
  });

  it('timedatectl show and chronyc tracking', () => {
    expect(parseProperties(fx('timedatectl-show.synced.txt')).NTPSynchronized).toBe('yes');
    expect(parseProperties(fx('timedatectl-show.unsynced.txt')).NTPSynchronized).toBe('no');
    expect(parseChronyTracking(fx('chronyc-tracking.txt'))).toEqual({
      synced: true,
      offsetSeconds: 0.000012345,
    });
  });
});
