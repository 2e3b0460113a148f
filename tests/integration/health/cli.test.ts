import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { deadPort } from './env.ts';

let sshd: SshdFixture | undefined;
let dir: string;
beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'bo-health-cli-'));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(extraHosts: Record<string, unknown> = {}, checks: unknown[] = []) {
  return writeConfig(
    {
      stateDir: join(dir, 'state'),
      hosts: { files1: { ...sshd!.hostConfig(), roles: ['storage'] }, ...extraHosts },
      health: { defaults: false, hostTimeout: '10s', checks },
    },
    mkdtempSync(join(dir, 'cfg-')),
  );
}

describe('bo health / bo report', () => {
  it('Nagios codes: exit 0 when all ok, 1 on a warning, 2 on a critical result, 3 on unknown', async ({
    skip,
  }) => {
    if (!sshd) return skip();
    const ok = await runBo(['--config', config({}, [{ check: 'uptime', recentReboot: '1s' }]), 'health']);
    expect(ok.stdout).toMatch(/^ok +files1 +reachable, uptime$/m);
    expect(ok.code).toBe(0);

    const warn = await runBo([
      '--config',
      config({}, [{ check: 'disk', roles: ['storage'], mounts: ['/'], warn: 0, crit: 100 }]),
      'health',
    ]);
    expect(warn.stdout.split('\n')[0]).toMatch(/^WARN +files1 +disk \/ +\d+% used, .* \(warn ≥ 0%\)/);
    expect(warn.code).toBe(1);
    // Perfdata after `|`, per the Monitoring Plugins guidelines: 'label'=value[UOM];warn;crit;min;max.
    expect(warn.stdout).toMatch(/^\| 'files1 disk \/'=\d+(\.\d+)?%;0;100;0;100$/m);

    // A check that cannot measure is UNKNOWN (3), as /metrics says (bo_health_status 3).
    const unknown = await runBo([
      '--config',
      config({}, [{ check: 'disk', mounts: ['/no/such/mount'] }]),
      'health',
    ]);
    expect(unknown.stdout).toMatch(/^UNKNOWN +files1 +disk +no matching filesystems/m);
    expect(unknown.code).toBe(3);

    const dead = await deadPort();
    const crit = await runBo([
      '--config',
      config({ mx2: { ...sshd.hostConfig(), port: dead } }, [{ check: 'uptime', recentReboot: '1s' }]),
      'health',
      '--json',
    ]);
    expect(crit.code).toBe(2);
    const report = JSON.parse(crit.stdout);
    expect(report).toMatchObject({
      format: 'bo-health-report',
      summary: { crit: 1, hosts: 2, line: '1 crit on 2 hosts' },
    });
    expect(report.hosts[0]).toMatchObject({ host: 'mx2', status: 'crit', reachable: false });
  });

  it('checks only the named hosts; a usage or config error is UNKNOWN (3), never CRITICAL', async ({
    skip,
  }) => {
    if (!sshd) return skip();
    // recentReboot: 1s, so a freshly booted CI machine is not "recently rebooted" (a warning).
    const cfg = config({ mx2: { ...sshd.hostConfig(), port: await deadPort() } }, [
      { check: 'uptime', recentReboot: '1s' },
    ]);
    const one = await runBo(['--config', cfg, 'health', 'files1']);
    expect(one.code).toBe(0);
    expect(one.stdout).not.toContain('mx2');
    const bad = await runBo(['--config', cfg, 'health', 'nosuch']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/unknown host nosuch/);
    // A typo in --role must not be a permanent OK for Nagios.
    const role = await runBo(['--config', cfg, 'health', '--role', 'strorage']);
    expect(role.code).toBe(3);
    expect(role.stdout).toBe('');
    expect(role.stderr).toMatch(/unknown role strorage/);
    expect(role.stderr).toMatch(/roles in the config: storage/);
    const none = await runBo(['--config', cfg, 'health', 'mx2', '--role', 'storage']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no host to check/);
    expect(`${role.stderr}${none.stderr}`).not.toMatch(/this is a bug| {4}at /);
    // A misspelt option, an invalid config or a missing config file: UNKNOWN too.
    const option = await runBo(['--config', cfg, 'health', '--rol', 'storage']);
    expect(option.code).toBe(3);
    expect(option.stderr).toMatch(/unknown option '--rol'/);
    const invalid = writeConfig({ hosts: { files1: { address: 42 } } }, mkdtempSync(join(dir, 'cfg-')));
    const broken = await runBo(['--config', invalid, 'health']);
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/invalid config/);
    const absent = await runBo(['--config', join(dir, 'no-such.yaml'), 'health']);
    expect(absent.code).toBe(3);
    const level = await runBo(['--config', cfg, '--log-level', 'loud', 'health']);
    expect(level.code).toBe(3);
    // Other commands keep exit 2 for usage errors.
    expect((await runBo(['--config', invalid, 'list'])).code).toBe(2);
    expect((await runBo(['--config', cfg, 'list', '--nope'])).code).toBe(2);
  });

  it('bo report --out: a clear error when the file cannot be written, and nothing stored', async ({
    skip,
  }) => {
    if (!sshd) return skip();
    const cfg = config({}, [{ check: 'uptime', recentReboot: '1s' }]);
    const out = join(dir, 'no-such-dir', 'x.html');
    // A bad --out is a usage error (exit 2), found before any check runs.
    const missing = await runBo(['--config', cfg, 'report', '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `bo: cannot write the report to ${out}: no such directory\nhint: check that the directory exists and is writable\n`,
    );
    const taken = mkdtempSync(join(dir, 'taken-'));
    const clash = await runBo(['--config', cfg, 'report', '--format', 'html', '--out', taken]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/cannot write the report to .*: it is a directory/);
    expect(`${missing.stderr}${clash.stderr}`).not.toMatch(/this is a bug| {4}at /);
    expect(readdirSync(dirname(taken)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Neither report was stored: --last finds none.
    const last = await runBo(['--config', cfg, 'report', '--last']);
    expect(last.stderr).toMatch(/no stored health report yet/);
  });

  it('bo report writes html and tells what changed since the previous report', async ({ skip }) => {
    if (!sshd) return skip();
    const cfgA = config({}, [{ check: 'disk', mounts: ['/'], warn: 100, crit: 100 }]);
    const out = join(dir, 'report.html');
    const first = await runBo(['--config', cfgA, 'report', '--format', 'html', '--out', out]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/all 2 checks ok on 1 host; report written to/);
    expect(readFileSync(out, 'utf8')).toMatch(/^<!doctype html>/);
    // Same state dir, stricter threshold: the disk is now critical, which is a change.
    const cfgB = config({}, [{ check: 'disk', mounts: ['/'], warn: 0, crit: 1 }]);
    const second = await runBo(['--config', cfgB, 'report']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^# bo fleet health: 1 crit on 1 host$/m);
    expect(second.stdout).toMatch(
      /^## Changes since the previous report \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/m,
    );
    expect(second.stdout).toMatch(/^- files1 · disk \/: ok → \*\*crit\*\*: \d+% used/m);
    const last = await runBo(['--config', cfgB, 'report', '--last', '--format', 'json']);
    expect(JSON.parse(last.stdout).summary.line).toBe('1 crit on 1 host');
  });
});
