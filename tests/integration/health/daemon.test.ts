/**
 * The daemon path end to end: the real `bo daemon` as a child process runs a scheduled
 * `kind: health` job against the real loopback sshd, stores the report in the state database,
 * and serves it on its HTTP page (/) and as Prometheus metrics (/metrics).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeConfig } from '../../fixtures/bo.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { type DaemonProc, spawnDaemon } from '../daemon/daemon-proc.ts';
import { deadPort } from './env.ts';

let sshd: SshdFixture | undefined;
let dir: string;
let daemon: DaemonProc | undefined;
beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'bo-health-daemon-'));
});
afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the daemon runs health jobs and serves their report', () => {
  it('a scheduled health job → stored report → the page and /metrics', async ({ skip }) => {
    if (!sshd) return skip();
    const closed = await deadPort();
    const cfg = writeConfig(
      {
        stateDir: join(dir, 'state'),
        daemon: { socket: join(dir, 'bo.sock'), http: { enabled: true, listen: '127.0.0.1:0' } },
        hosts: { files1: { ...sshd.hostConfig(), roles: ['storage'] } },
        health: {
          defaults: false,
          hostTimeout: '20s',
          checks: [
            { check: 'uptime', recentReboot: '1s' },
            { check: 'disk', mounts: ['/'], warn: 100, crit: 100 },
            { check: 'tcp', hosts: ['files1'], port: closed, timeout: '2s' },
          ],
        },
        // Every 2 seconds (node-cron's seconds field): the first run comes at once.
        jobs: { fleet: { kind: 'health', schedule: '*/2 * * * * *' } },
      },
      dir,
    );
    daemon = await spawnDaemon(cfg);
    const listening = await daemon.waitFor((l) => l.msg === 'HTTP status page listening');
    const base = String(listening.url);
    const finished = await daemon.waitFor((l) => l.msg === 'Run finished' && l.job === 'fleet', 60_000);
    expect(finished).toMatchObject({ job: 'fleet' });

    const page = await fetch(base);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('1 crit on 1 host');
    expect(html).toContain(`connection refused`);

    const metrics = await (await fetch(`${base}metrics`)).text();
    expect(metrics).toContain(`bo_health_status{host="files1",check="tcp",subject="${closed}"} 2`);
    expect(metrics).toContain('bo_health_status{host="files1",check="uptime",subject=""} 0');
    expect(metrics).toMatch(/^bo_health_value\{host="files1",check="disk",subject="\/",unit="%"\} [\d.]+$/m);
    expect(metrics).toContain(
      'bo_health_threshold{host="files1",check="disk",subject="/",level="crit",below="false"} 100',
    );
    expect(metrics).toContain('bo_health_checks{status="crit"} 1');
    expect(metrics).toMatch(/^bo_health_report_timestamp_seconds \d+/m);
    expect((await fetch(`${base}healthz`)).status).toBe(200);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toMatchObject({ code: 0 });
  }, 90_000);
});
