import { describe, expect, it } from 'vitest';
import type { CheckName } from '../../../src/config/schema.ts';
import { HealthCheckSpec } from '../../../src/config/schema.ts';
import type { ProbeCheck, Sample, SpecOf } from '../../../src/health/check.ts';
import { checkFor } from '../../../src/health/registry.ts';
import { ctx, fx, NOW, out } from './fixture.ts';

function spec<N extends CheckName>(check: N, opts: Record<string, unknown> = {}): SpecOf<N> {
  return HealthCheckSpec.parse({ check, ...opts }) as SpecOf<N>;
}

function evaluate<N extends CheckName>(
  check: N,
  stdout: string,
  opts: Record<string, unknown> = {},
  c = ctx(),
  code = 0,
) {
  const probe = checkFor(check) as ProbeCheck<N>;
  return probe.evaluate(out(stdout, code), spec(check, opts), c);
}

describe('disk', () => {
  it('checks real filesystems only, with value, threshold and message', () => {
    const rs = evaluate('disk', fx('df-PT-B1.debian12.txt'));
    expect(rs.map((r) => r.subject)).toEqual(['/', '/tmp/btm']);
    const root = rs[0]!;
    expect(root).toMatchObject({
      host: 'files1',
      check: 'disk',
      status: 'ok',
      unit: '%',
      threshold: { warn: 80, crit: 90 },
    });
    expect(root.value).toBeCloseTo(23.6, 0);
    expect(root.message).toBe('24% used, 77.9 GiB free of 252 GiB');
    expect(root.data).toMatchObject({ used: 25333522432, avail: 83610771456 });
  });

  it('crit when above the threshold, telling what to run', () => {
    const [root] = evaluate('disk', fx('df-PT-B1.root-full.txt'), { mounts: ['/'] });
    expect(root!.status).toBe('crit');
    expect(root!.message).toMatch(/98% used.*\(crit ≥ 90%\).*`du -xh --max-depth=2 \/ \| sort -h \| tail`/);
  });

  it('forecasts from the history and escalates when full soon', () => {
    const day = 86_400_000;
    const avail = 83610771456;
    const used = 25333522432;
    // 20 GiB a day for the last three days → about 3.9 days of the 78 GiB left.
    const history: Sample[] = [3, 2, 1].map((d) => ({
      at: NOW.getTime() - d * day,
      data: { used: used - d * 20 * 2 ** 30 },
    }));
    const [root] = evaluate(
      'disk',
      fx('df-PT-B1.debian12.txt'),
      { mounts: ['/'], forecastWarn: '5d' },
      ctx({ history: () => history }),
    );
    expect(root!.status).toBe('warn');
    expect(root!.message).toMatch(/full in ~4 days at \+20.0 GiB\/day \(warn ≤ 120h\)/);
    expect(root!.data?.fullInHours).toBe(Math.round((avail / (20 * 2 ** 30)) * 24));
    // The forecast decided: its value and thresholds are the result's, used % moves to data.
    expect(root).toMatchObject({ unit: 'hours', threshold: { warn: 120, crit: 24, below: true } });
    expect(root!.value).toBeCloseTo((avail / (20 * 2 ** 30)) * 24, 0);
    expect(root!.data?.usedPercent).toBeCloseTo(23.3, 0);
    // Space decides when it is the worse (or equal) reason: the % thresholds stay.
    const [full] = evaluate(
      'disk',
      fx('df-PT-B1.debian12.txt'),
      { mounts: ['/'], forecastWarn: '5d', warn: 20 },
      ctx({ history: () => history }),
    );
    expect(full).toMatchObject({ status: 'warn', unit: '%', threshold: { warn: 20, crit: 90 } });
  });

  it('an explicit mount list includes pseudo filesystems; exclude drops mounts', () => {
    expect(
      evaluate('disk', fx('df-PT-B1.debian12.txt'), { mounts: ['/dev/shm'] }).map((r) => r.subject),
    ).toEqual(['/dev/shm']);
    expect(
      evaluate('disk', fx('df-PT-B1.debian12.txt'), { exclude: ['/tmp/btm'] }).map((r) => r.subject),
    ).toEqual(['/']);
  });

  it('df failing is unknown with the reason', () => {
    const [r] = checkFor('disk').type === 'probe' ? evaluate('disk', '', {}, ctx(), 124) : [];
    expect(r).toMatchObject({
      status: 'unknown',
      message: 'cannot run df: timed out (hung filesystem or device?)',
    });
  });
});

describe('inodes', () => {
  it('skips btrfs (no inode counts) and tmpfs', () => {
    const rs = evaluate('inodes', fx('df-PTi.debian12.txt'));
    expect(rs.map((r) => [r.subject, r.status])).toEqual([['/', 'ok']]);
    expect(rs[0]!.message).toBe('3% of 16,777,216 inodes used');
  });

  it('disk and inodes read the same df --output section (one df process per host)', () => {
    expect((checkFor('disk') as ProbeCheck).command(spec('disk'))).toBe(
      (checkFor('inodes') as ProbeCheck).command(spec('inodes')),
    );
    const text = fx('df-output.debian12.txt');
    expect(evaluate('disk', text).map((r) => [r.subject, r.status])).toEqual([
      ['/', 'ok'],
      ['/tmp/btm-fx', 'ok'],
    ]);
    expect(evaluate('inodes', text).map((r) => [r.subject, r.message])).toEqual([
      ['/', '4% of 16,777,216 inodes used'],
    ]);
  });
});

describe('raid', () => {
  it('ok, degraded (crit), rebuilding (warn), inactive (crit), check (ok), delayed resync (warn)', () => {
    expect(evaluate('raid', fx('mdstat.raid1-ok.txt')).map((r) => r.status)).toEqual(['ok', 'ok']);
    const degraded = evaluate('raid', fx('mdstat.raid1-degraded.txt'));
    expect(degraded.map((r) => r.status)).toEqual(['crit', 'crit']);
    expect(degraded[0]!.message).toBe(
      'md0 raid1 DEGRADED [2/1] [U_]; failed: sdb1: replace the disk and re-add it (`mdadm --detail /dev/md0`)',
    );
    const rec = evaluate('raid', fx('mdstat.raid5-recovery.txt'))[0]!;
    expect(rec.status).toBe('warn');
    expect(rec.message).toBe('md127 raid5 degraded [4/3] [UUU_], rebuilding: recovery 17.3%, ~301 min left');
    expect(evaluate('raid', fx('mdstat.inactive.txt'))[0]!.status).toBe('crit');
    expect(evaluate('raid', fx('mdstat.raid1-check-and-delayed.txt')).map((r) => r.status)).toEqual([
      'warn',
      'ok',
    ]);
  });

  it('no md driver or no arrays is unknown', () => {
    expect(evaluate('raid', '@@bo-nomd\n')[0]!.status).toBe('unknown');
    expect(evaluate('raid', fx('mdstat.no-arrays.txt'))[0]!.message).toBe('no md arrays in /proc/mdstat');
  });
});

describe('smart', () => {
  it('per device: passed ok, failed crit, permission unknown with the fix', () => {
    const text = [
      ['/dev/sda', 'smartctl-H.ata-passed.txt', 0],
      ['/dev/sdb', 'smartctl-H.ata-failed.txt', 8],
      ['/dev/sdc', 'smartctl-H.permission.txt', 2],
    ]
      .map(([d, f, rc]) => `@@bo-dev ${d}\n${fx(f as string)}@@bo-dev-rc ${rc}\n`)
      .join('');
    const rs = evaluate('smart', text);
    expect(rs.map((r) => [r.subject, r.status])).toEqual([
      ['/dev/sda', 'ok'],
      ['/dev/sdb', 'crit'],
      ['/dev/sdc', 'unknown'],
    ]);
    expect(rs[1]!.message).toMatch(/FAILED!: replace the disk; see `smartctl -a \/dev\/sdb`/);
    expect(rs[2]!.message).toMatch(/needs root: set sudo on the host/);
  });

  it('smartctl not installed is unknown with the reason', () => {
    expect(evaluate('smart', '@@bo-nosmartctl\n')[0]).toMatchObject({
      status: 'unknown',
      message: 'smartctl is not installed (Debian package smartmontools)',
    });
  });
});

describe('zfs, btrfs', () => {
  it('zfs: healthy ok, degraded crit, data errors crit', () => {
    expect(evaluate('zfs', fx('zpool-status-x.healthy.txt'))[0]!.status).toBe('ok');
    const rs = evaluate('zfs', fx('zpool-status-x.degraded.txt'));
    expect(rs.map((r) => [r.subject, r.status])).toEqual([
      ['tank', 'crit'],
      ['backup', 'crit'],
    ]);
    expect(rs[1]!.message).toMatch(/errors: 2 data errors/);
    expect(evaluate('zfs', '@@bo-nozpool\n')[0]!.status).toBe('unknown');
  });

  it('btrfs: non-zero counters are crit and name the counters', () => {
    const rs = evaluate('btrfs', `@@bo-mnt /srv\n${fx('btrfs-device-stats.errors.txt')}`);
    expect(rs.map((r) => [r.subject, r.status, r.value])).toEqual([
      ['/dev/sdb', 'ok', 0],
      ['/dev/sdc', 'crit', 22],
    ]);
    expect(rs[1]!.message).toMatch(/write_io_errs 12, read_io_errs 3, corruption_errs 7/);
  });
});

describe('mailqueue', () => {
  const summary = (n: number, d: number, oldest: number) =>
    `@@bo-mta postfix\n${fx('postqueue-j.txt')}@@bo-count ${n} ${d} ${oldest}\n`;

  it('depth against thresholds, oldest age, top reason', () => {
    const [r] = evaluate('mailqueue', summary(1234, 1200, 1763703600));
    expect(r).toMatchObject({ status: 'crit', value: 1234, unit: 'messages' });
    expect(r!.message).toMatch(
      /^1234 messages queued \(postfix\), 1200 deferred \(crit ≥ 1000\); oldest 26h; top reason: connect to mail\.example\.net/,
    );
  });

  it('a small but stale queue warns', () => {
    const [r] = evaluate('mailqueue', summary(5, 3, 1763703600), { maxAge: '6h' });
    expect(r!.status).toBe('warn');
  });

  it('exim counts', () => {
    expect(evaluate('mailqueue', `@@bo-mta exim\n${fx('exim-bpc.txt')}`)[0]).toMatchObject({
      status: 'ok',
      value: 37,
    });
  });
});

describe('load, memory, uptime', () => {
  it('load per core over 5 minutes', () => {
    expect(evaluate('load', fx('nproc-loadavg.txt'))[0]).toMatchObject({ status: 'ok', value: 0.5 });
    const [hot] = evaluate('load', '2\n9.10 8.50 7.00 5/300 1234\n');
    expect(hot).toMatchObject({ status: 'crit', value: 4.25 });
    expect(hot!.message).toMatch(/4\.25\/core over 5 min, crit ≥ 4\)/);
  });

  it('memory from MemAvailable and swap', () => {
    expect(evaluate('memory', fx('meminfo.noswap.txt')).map((r) => [r.subject, r.status])).toEqual([
      ['ram', 'ok'],
    ]);
    const rs = evaluate('memory', fx('meminfo.pressure.txt'));
    expect(rs.map((r) => [r.subject, r.status])).toEqual([
      ['ram', 'crit'],
      ['swap', 'crit'],
    ]);
    expect(rs[0]!.message).toMatch(/^96% of 23.5 GiB RAM in use, 880 MiB available \(crit ≥ 95%\)/);
  });

  it('uptime warns after a recent reboot', () => {
    expect(evaluate('uptime', fx('uptime.txt'))[0]).toMatchObject({ status: 'ok', message: 'up 3h' });
    expect(evaluate('uptime', '600.5 1000.0\n')[0]!.message).toMatch(/^rebooted 10m ago: planned\?/);
  });
});

describe('systemd', () => {
  const probe = (failed: string, active?: string) =>
    `${failed}@@bo-rc 0\n${active !== undefined ? `@@bo-active\n${active}` : ''}`;

  it('failed units are crit; named units must be active', () => {
    const rs = evaluate('systemd', probe(fx('systemctl-failed.plain.txt'), fx('systemctl-is-active.txt')), {
      units: ['ssh.service', 'postfix.service', 'dovecot.service'],
    });
    expect(rs.map((r) => [r.subject, r.status])).toEqual([
      ['failed', 'crit'],
      ['ssh.service', 'ok'],
      ['postfix.service', 'crit'],
      ['dovecot.service', 'crit'],
    ]);
    expect(rs[0]!.message).toMatch(
      /^2 failed units: certbot.service, postfix@-.service: see `systemctl status certbot.service`/,
    );
  });

  it('ignore list', () => {
    expect(
      evaluate('systemd', probe(fx('systemctl-failed.bullet.txt')), { ignore: ['certbot.service'] })[0]!
        .status,
    ).toBe('ok');
  });

  it('not booted with systemd (this container): unknown with the reason, not a crash', () => {
    expect(evaluate('systemd', '@@bo-nosystemd process_api\n')[0]).toMatchObject({
      status: 'unknown',
      message: 'systemd is not the init system here (PID 1 is process_api): cannot list failed units',
    });
    const failing = `${fx('systemctl-failed.no-systemd.txt')}@@bo-rc 1\n`;
    expect(evaluate('systemd', failing)[0]).toMatchObject({
      status: 'unknown',
      message:
        "systemctl failed: System has not been booted with systemd as init system (PID 1). Can't operate.",
    });
  });
});

describe('ntp', () => {
  it('synced and clock close: ok', () => {
    const [r] = evaluate(
      'ntp',
      `@@bo-timedatectl\n${fx('timedatectl-show.synced.txt')}`,
      {},
      ctx({ clockSkew: { skewMs: 40, uncertaintyMs: 15 } }),
    );
    expect(r).toMatchObject({ status: 'ok', value: 40 });
    expect(r!.message).toBe("NTP synchronized; clock within 55ms of bo's");
  });

  it('not synchronized warns; a clock minutes off is crit even without timedatectl', () => {
    expect(evaluate('ntp', `@@bo-timedatectl\n${fx('timedatectl-show.unsynced.txt')}`)[0]!.status).toBe(
      'warn',
    );
    const [r] = evaluate(
      'ntp',
      '@@bo-nontp\n',
      {},
      ctx({ clockSkew: { skewMs: -125_000, uncertaintyMs: 50 } }),
    );
    expect(r!.status).toBe('crit');
    expect(r!.message).toMatch(/clock 2m behind bo's/);
  });

  it('nothing measurable is unknown', () => {
    expect(evaluate('ntp', '@@bo-nontp\n')[0]).toMatchObject({
      status: 'unknown',
      message: 'NTP sync state unknown: no systemd (for timedatectl) and no chronyc',
    });
  });

  it('timedatectl failing falls back to chronyc; a present chronyc is never called missing', () => {
    const failed = `@@bo-timedatectl\n${fx('timedatectl.no-systemd.txt')}@@bo-timedatectl-rc 1\n`;
    const chrony = evaluate('ntp', `${failed}@@bo-chrony\n${fx('chronyc-tracking.txt')}`)[0]!;
    expect(chrony).toMatchObject({ status: 'ok', message: 'chrony synchronized' });
    const broken = evaluate('ntp', `${failed}@@bo-chrony\n506 Cannot talk to daemon\n`)[0]!;
    expect(broken.status).toBe('unknown');
    expect(broken.message).toMatch(
      /^NTP sync state unknown: timedatectl failed \(System has not been booted with systemd.*\), chronyc failed \(506 Cannot talk to daemon\)$/,
    );
    expect(evaluate('ntp', `${failed}@@bo-nochronyc\n`)[0]!.message).toMatch(
      /^NTP sync state unknown: timedatectl failed \(.*\), no chronyc$/,
    );
    // Without systemd, chronyc answers alone.
    expect(evaluate('ntp', `@@bo-chrony\n${fx('chronyc-tracking.txt')}`)[0]!.message).toBe(
      'chrony synchronized',
    );
  });
});
