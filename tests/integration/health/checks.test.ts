import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performHealth } from '../../../src/health/service.ts';
import type { CheckResult } from '../../../src/health/types.ts';
import { silentLogger } from '../../../src/log.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { countingProxy, deadPort, silentServer, testConfig, testServices } from './env.ts';

let sshd: SshdFixture | undefined;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

const find = (rs: CheckResult[], host: string, check: string, subject?: string) =>
  rs.find((r) => r.host === host && r.check === check && (subject === undefined || r.subject === subject));

describe('health checks over the real loopback sshd', () => {
  it('disk, inodes, load, memory, ntp, uptime run for real; systemd tells the truth; dead hosts do not stall the rest', async ({
    skip,
  }) => {
    if (!sshd) return skip();
    const silent = await silentServer();
    const env = testConfig({
      hosts: {
        files1: { ...sshd.hostConfig(), roles: ['storage'] },
        dead: { ...sshd.hostConfig(), port: await deadPort() },
        // connectTimeout above hostTimeout, so the health timeout is what fires.
        hung: { ...sshd.hostConfig(), port: silent.port, connectTimeout: '30s' },
      },
      health: {
        // Generous: the live host's checks must finish on a loaded machine too; the hung host
        // costs this much, in parallel with the others.
        hostTimeout: '12s',
        checks: [
          { check: 'raid', roles: ['storage'] },
          { check: 'systemd', hosts: ['files1'], units: ['ssh.service'] },
        ],
      },
    });
    const services = testServices(env.config);
    try {
      const { report, run, recorded } = await performHealth(services, {
        log: silentLogger(),
        signal: new AbortController().signal,
      });
      const rs = run.hosts.flatMap((h) => h.results);
      expect(recorded).toBe(true);

      // The live host: every check measured something real.
      expect(find(rs, 'files1', 'reachable')).toMatchObject({ status: 'ok', unit: 'ms' });
      const root = find(rs, 'files1', 'disk', '/')!;
      expect(root.status).toMatch(/ok|warn|crit/);
      expect(root.data?.size).toBeGreaterThan(0);
      expect(root.message).toMatch(/^\d+% used, .* free of /);
      expect(find(rs, 'files1', 'inodes', '/')?.value).toBeGreaterThan(0);
      expect(find(rs, 'files1', 'load')?.data?.cores).toBeGreaterThan(0);
      expect(find(rs, 'files1', 'memory', 'ram')?.data?.total).toBeGreaterThan(0);
      expect(find(rs, 'files1', 'uptime')?.value).toBeGreaterThan(0);
      // bo and the host share a clock: the host's time is read between bo's send and first byte,
      // so the skew never exceeds the measurement's uncertainty, however loaded the machine is.
      const ntp = find(rs, 'files1', 'ntp')!;
      expect(ntp.message).toMatch(/clock within \d+ms of bo's/);
      expect(ntp.unit).toBe('ms');
      expect(find(rs, 'files1', 'raid')?.status).toBe(
        existsSync('/proc/mdstat') ? expect.any(String) : 'unknown',
      );

      const systemd = rs.filter((r) => r.host === 'files1' && r.check === 'systemd');
      if (existsSync('/run/systemd/system')) {
        expect(systemd.map((r) => r.subject)).toEqual(['failed', 'ssh.service']);
      } else {
        // Not booted with systemd (this container): unknown with the reason, not a crash or a false ok.
        expect(systemd).toEqual([
          expect.objectContaining({
            status: 'unknown',
            message: expect.stringMatching(/^systemd is not the init system here \(PID 1 is .+\)/),
          }),
        ]);
      }

      // Refused and silent hosts: reachable crit, no probe results, the report still complete.
      expect(find(rs, 'dead', 'reachable')).toMatchObject({
        status: 'crit',
        message: expect.stringMatching(/connection refused/),
      });
      expect(find(rs, 'hung', 'reachable')).toMatchObject({
        status: 'crit',
        message: expect.stringMatching(/^no answer over SSH within 12s: /),
      });
      expect(rs.filter((r) => r.host === 'dead' || r.host === 'hung').map((r) => r.check)).toEqual([
        'reachable',
        'reachable',
      ]);
      // Worst first: the dead hosts lead (files1 may join them on a loaded machine: its load is real).
      expect(report.hosts[0]!.status).toBe('crit');
      expect(report.hosts.filter((h) => h.host !== 'files1').map((h) => [h.host, h.status])).toEqual([
        ['dead', 'crit'],
        ['hung', 'crit'],
      ]);
      expect(report.summary.hosts).toBe(3);
    } finally {
      await services.close();
      await silent.close();
      env.cleanup();
    }
  });

  it('one SSH connection and one exec per host per run; the connection is reused by the next run', async ({
    skip,
  }) => {
    if (!sshd) return skip();
    const proxy = await countingProxy(sshd.port);
    const env = testConfig({
      hosts: { files1: { ...sshd.hostConfig(), port: proxy.port } },
      health: { checks: [{ check: 'tcp', port: sshd.port, banner: '^SSH-2.0-' }] },
    });
    const services = testServices(env.config);
    const host = services.host('files1');
    let execs = 0;
    const exec = host.exec.bind(host);
    host.exec = (cmd, opts) => {
      execs++;
      return exec(cmd, opts);
    };
    try {
      const signal = new AbortController().signal;
      const first = await performHealth(services, { log: silentLogger(), signal });
      await performHealth(services, { log: silentLogger(), signal });
      // Seven probe checks batched into one exec per run, over one connection for both runs.
      expect(execs).toBe(2);
      expect(proxy.connections()).toBe(1);
      expect(first.run.hosts[0]!.results.find((r) => r.check === 'tcp')).toMatchObject({
        status: 'ok',
        subject: String(sshd.port),
        message: expect.stringMatching(/SSH-2\.0-OpenSSH/),
      });
    } finally {
      await services.close();
      await proxy.close();
      env.cleanup();
    }
  });

  it('checks at most health.concurrency hosts at once, and every host in the end', async ({ skip }) => {
    if (!sshd) return skip();
    const names = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'];
    const env = testConfig({
      hosts: Object.fromEntries(names.map((n) => [n, sshd!.hostConfig()])),
      health: { defaults: false, concurrency: 3, checks: [{ check: 'uptime', recentReboot: '1s' }] },
    });
    const services = testServices(env.config);
    let inFlight = 0;
    let peak = 0;
    for (const n of names) {
      const host = services.host(n);
      const exec = host.exec.bind(host);
      host.exec = async (cmd, opts) => {
        // Counted from the call: the workers of a run all reach their exec before any finishes.
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          const proc = await exec(cmd, opts);
          void proc.done.finally(() => inFlight--).catch(() => {});
          return proc;
        } catch (err) {
          inFlight--;
          throw err;
        }
      };
    }
    try {
      const { run } = await performHealth(services, {
        log: silentLogger(),
        signal: new AbortController().signal,
      });
      expect(peak).toBe(3);
      expect(run.hosts.map((h) => h.host).sort()).toEqual(names);
      expect(run.hosts.every((h) => h.results.some((r) => r.check === 'uptime' && r.status === 'ok'))).toBe(
        true,
      );
    } finally {
      await services.close();
      env.cleanup();
    }
  });
});
