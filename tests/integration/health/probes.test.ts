import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthCheckSpec } from '../../../src/config/schema.ts';
import { checkHost } from '../../../src/health/host-run.ts';
import { DF_OUTPUT } from '../../../src/health/parsers/df.ts';
import { silentLogger } from '../../../src/log.ts';
import { createLocalHost } from '../../../src/remote/local.ts';

const FX = fileURLToPath(new URL('../../fixtures/health/', import.meta.url));

/**
 * The real probe scripts (batching, markers, the awk summary of `postqueue -j`, the smartctl
 * device loop) run by a real shell, with the tools this machine lacks replaced by stubs that
 * print the recorded outputs from tests/fixtures/health.
 */
let stubs: string;
let savedPath: string | undefined;

function stub(name: string, body: string): void {
  const file = join(stubs, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
}

beforeAll(() => {
  stubs = mkdtempSync(join(tmpdir(), 'bo-stubs-'));
  stub(
    'smartctl',
    `case "$*" in
  --scan) cat '${FX}smartctl-scan.txt' ;;
  *"/dev/sda"*) cat '${FX}smartctl-H.ata-passed.txt' ;;
  *"/dev/sdb"*) cat '${FX}smartctl-H.ata-failed.txt'; exit 8 ;;
  *"/dev/nvme0"*) cat '${FX}smartctl-H.nvme-passed.txt' ;;
esac`,
  );
  stub('zpool', `[ "$*" = "status -x" ] && cat '${FX}zpool-status-x.degraded.txt'`);
  stub('postqueue', `[ "$1" = "-j" ] && cat '${FX}postqueue-j.txt'`);
  stub('chronyc', `cat '${FX}chronyc-tracking.txt'`);
  // timedatectl fails as it does without a working timedated: the ntp check falls back to chronyc,
  // on a systemd-booted machine as in a container (where timedatectl is not even tried).
  stub('timedatectl', `cat '${FX}timedatectl.no-systemd.txt' >&2; exit 1`);
  savedPath = process.env.PATH;
  process.env.PATH = `${stubs}:${process.env.PATH}`;
});

afterAll(() => {
  process.env.PATH = savedPath;
  rmSync(stubs, { recursive: true, force: true });
});

describe('probe scripts through a real shell', () => {
  it('batch smart, zfs, mailqueue and ntp into one exec and parse what the tools print', async () => {
    const specs = ['smart', 'zfs', 'mailqueue', 'ntp'].map((check) => HealthCheckSpec.parse({ check }));
    const host = createLocalHost();
    let execs = 0;
    const exec = host.exec.bind(host);
    host.exec = (c, o) => {
      execs++;
      return exec(c, o);
    };
    const h = await checkHost(
      { host: 'local', address: '127.0.0.1', roles: [], specs },
      {
        host,
        log: silentLogger(),
        signal: new AbortController().signal,
        now: () => new Date(),
        timeoutMs: 20_000,
        history: () => [],
      },
    );
    expect(execs).toBe(1);
    const by = (check: string) =>
      h.results.filter((r) => r.check === check).map((r) => [r.subject, r.status]);
    expect(by('reachable')).toEqual([['', 'ok']]);
    expect(h.results.find((r) => r.check === 'reachable')!.message).toMatch(
      /^the local shell answered in \d+ms$/,
    );
    expect(by('smart')).toEqual([
      ['/dev/sda', 'ok'],
      ['/dev/sdb', 'crit'],
      ['/dev/nvme0', 'ok'],
    ]);
    expect(by('zfs')).toEqual([
      ['tank', 'crit'],
      ['backup', 'crit'],
    ]);
    const mq = h.results.find((r) => r.check === 'mailqueue')!;
    // Five messages, three deferred, the oldest from the fixture (days ago): counted by the awk on the host.
    expect(mq).toMatchObject({ status: 'warn', value: 5, data: { deferred: 3 } });
    expect(mq.message).toMatch(
      /^5 messages queued \(postfix\), 3 deferred; oldest \d+d; top reason: connect to mail\.example\.net/,
    );
    const ntp = h.results.find((r) => r.check === 'ntp')!;
    expect(ntp.status).toBe('ok');
    expect(ntp.message).toMatch(/^chrony synchronized; clock within \d+ms of bo's$/);
  });

  it('df: a table printed with exit 1 (one unreadable mount) is read as is; a df without --output gets the fallback', async () => {
    const calls = join(stubs, 'df-calls');
    const table = [
      'Filesystem     Type      1B-blocks        Used      Avail  Inodes IUsed  IFree Mounted on',
      '/dev/sda1      ext4    10000000000  9500000000  500000000  1000    10    990 /srv',
    ].join('\\n');
    const run = async () => {
      writeFileSync(calls, '');
      const h = await checkHost(
        { host: 'local', address: '127.0.0.1', roles: [], specs: [HealthCheckSpec.parse({ check: 'disk' })] },
        {
          host: createLocalHost(),
          log: silentLogger(),
          signal: new AbortController().signal,
          now: () => new Date(),
          timeoutMs: 10_000,
          history: () => [],
        },
      );
      return { results: h.results, calls: readFileSync(calls, 'utf8').trim().split('\n') };
    };
    // GNU df: "df: /run/user/1000/doc: Permission denied", exit 1, the full table all the same.
    stub(
      'df',
      `echo "df $*" >> '${calls}'; printf '${table}\\n'; echo 'df: /run/user/1000/doc: Permission denied' >&2; exit 1`,
    );
    const gnu = await run();
    expect(gnu.calls).toEqual([`df -B1 --output=${DF_OUTPUT}`]);
    expect(gnu.results.find((r) => r.subject === '/srv')).toMatchObject({ status: 'crit' });
    // busybox df: no --output, nothing printed; the POSIX form is asked instead.
    stub(
      'df',
      `echo "df $*" >> '${calls}'
case "$*" in
  *--output*) echo "df: unrecognized option '--output'" >&2; exit 1 ;;
  *-i*) printf 'Filesystem Type Inodes Used Available Capacity Mounted on\\n/dev/sda1 ext4 1000 10 990 1%% /srv\\n' ;;
  *) printf 'Filesystem Type 1-blocks Used Available Capacity Mounted on\\n/dev/sda1 ext4 10000000000 9500000000 500000000 95%% /srv\\n' ;;
esac`,
    );
    const busybox = await run();
    expect(busybox.calls).toEqual([`df -B1 --output=${DF_OUTPUT}`, 'df -PT -B1', 'df -PTi']);
    expect(busybox.results.find((r) => r.subject === '/srv')).toMatchObject({ status: 'crit' });
    rmSync(join(stubs, 'df'));
  });

  it('hung commands are cut by their timeouts; the checks that cannot hang ran first and report', async () => {
    stub('zpool', 'sleep 30');
    stub('smartctl', 'sleep 30');
    stub('chronyc', 'sleep 30');
    const specs = ['smart', 'zfs', 'ntp', 'load', 'memory', 'uptime'].map((check) =>
      HealthCheckSpec.parse({ check }),
    );
    const h = await checkHost(
      { host: 'local', address: '127.0.0.1', roles: [], specs },
      // timeoutMs 6 s → each bounded section gets 2 s: three hung ones use up the host's budget.
      {
        host: createLocalHost(),
        log: silentLogger(),
        signal: new AbortController().signal,
        now: () => new Date(),
        timeoutMs: 6_000,
        history: () => [],
      },
    );
    expect(h.results.find((r) => r.check === 'zfs')).toMatchObject({
      status: 'unknown',
      message: expect.stringMatching(/timed out|ran out of time/),
    });
    expect(h.results.find((r) => r.check === 'smart')?.status).toBe('unknown');
    expect(h.results.find((r) => r.check === 'ntp')?.status).toMatch(/unknown|ok|warn|crit/);
    // The /proc checks ran before anything that can hang: measured whatever the rest did.
    for (const check of ['load', 'memory', 'uptime'])
      expect(h.results.find((r) => r.check === check)?.status, check).toMatch(/^(ok|warn|crit)$/);
  });
});
