/**
 * Health benchmark: the full check set against 100 simulated hosts. The hosts are 100 entries
 * pointing at 4 loopback sshd instances, each behind a counting TCP proxy, so every SSH
 * connection bo opens is counted.
 * Clean login shell: sshd runs each command through the user's login shell, and bash sources
 * ~/.bashrc for SSH sessions; on a developer machine that may run `pyenv init` (~130 ms of CPU
 * per exec), which would measure the machine's dotfiles, not bo. So the sshd instances run in a
 * private mount namespace (`unshare -m`, root only) with a copy of /etc/passwd bind-mounted in
 * which the login user's shell is /bin/sh and its home an empty temp dir (startSshd's
 * `cleanShell`); the header line says whether that was possible. Rows:
 *   - floor: OpenSSH `ssh host true`, 16 at a time: a fresh connection and login per host, nothing run;
 *   - baseline: what a sysadmin's loop costs, OpenSSH `ssh host '<same probe script>'`, 16 at a time;
 *   - `bo health` as a CLI child process: wall time, peak RSS, SSH connections opened;
 *   - the daemon's way, in this process: two runs sharing one set of connections (the second
 *     run must open none).
 * Every host gets load, memory, disk, inodes, systemd, ntp, uptime, raid, smart, zfs, btrfs,
 * mailqueue (one exec), plus tcp, tls and http from here, plus backup-freshness for its job.
 * Target: < 10 s for 100 hosts, one connection per host, reused.
 *   node bench/health.ts [HOSTS]   (default 100)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { systemClock } from '../src/clock.ts';
import { parseResolved } from '../src/config/resolve-secrets.ts';
import { Config } from '../src/config/schema.ts';
import { probeSections } from '../src/health/host-run.ts';
import { planHealth } from '../src/health/plan.ts';
import { buildProbeScript } from '../src/health/probe.ts';
import { checkFor } from '../src/health/registry.ts';
import { performHealth } from '../src/health/service.ts';
import { silentLogger } from '../src/log.ts';
import { createServices } from '../src/services.ts';
import { writeConfig } from '../tests/fixtures/bo.ts';
import { makeTestCerts } from '../tests/fixtures/health/certs.ts';
import { type SshdFixture, startSshd } from '../tests/fixtures/sshd.ts';
import { countingProxy } from '../tests/integration/health/env.ts';
import { measure } from './lib/measure.ts';

const HOSTS = Number(process.argv[2] ?? 100);

/** CPU seconds the whole machine spent busy so far (all processes: bo, sshd, the probe scripts, others). */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return (f.reduce((a, b) => a + b, 0) - idle) / 100;
}
const SSHDS = 4;
const MB = 1024 * 1024;

async function main() {
  const loadAtStart = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'bo-bench-health-'));
  const sshds: SshdFixture[] = [];
  for (let i = 0; i < SSHDS; i++) {
    const s = await startSshd({ cleanShell: true });
    if (!s) throw new Error('OpenSSH sshd is needed for this benchmark');
    sshds.push(s);
  }
  const proxies = await Promise.all(sshds.map((s) => countingProxy(s.port)));
  const certs = makeTestCerts();
  const tls = createTlsServer({ key: certs!.valid.key, cert: certs!.valid.cert }, (s) => s.end());
  const http = createHttpServer((_req, res) => res.end('ok'));
  const listen = (srv: typeof tls | typeof http) =>
    new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
  const [tlsPort, httpPort] = [await listen(tls), await listen(http)];
  mkdirSync(join(dir, 'repo'), { recursive: true });

  const hosts: Record<string, unknown> = {};
  const jobs: Record<string, unknown> = {};
  for (let i = 0; i < HOSTS; i++) {
    const name = `host${String(i).padStart(3, '0')}`;
    const s = sshds[i % SSHDS]!;
    hosts[name] = { ...s.hostConfig(), port: proxies[i % SSHDS]!.port, roles: ['storage', 'transmission'] };
    jobs[`${name}-etc`] = { host: name, paths: ['/etc'], storage: 'repo', schedule: '0 2 * * *' };
  }
  const raw = {
    stateDir: join(dir, 'state'),
    storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
    hosts,
    jobs,
    health: {
      checks: [
        ...['raid', 'smart', 'zfs', 'btrfs', 'mailqueue'].map((check) => ({ check, roles: ['storage'] })),
        // Every host's tcp check dials its sshd through the proxy: counted apart from bo's own SSH connections.
        {
          check: 'tcp',
          roles: ['transmission'],
          address: '127.0.0.1',
          port: sshds[0]!.port,
          banner: '^SSH-2.0-',
        },
        {
          check: 'tls',
          roles: ['transmission'],
          address: '127.0.0.1',
          port: tlsPort,
          servername: 'localhost',
          ca: certs!.caFile,
        },
        { check: 'http', roles: ['transmission'], url: `http://{address}:${httpPort}/` },
      ],
    },
  };
  const cfgFile = writeConfig(raw, dir);
  const config = parseResolved(Config, raw);
  const connections = () => proxies.reduce((a, p) => a + p.connections(), 0);

  // Floor and baseline: the OpenSSH client, 16 hosts at a time, running `true` / the same batched probe script.
  const plan = planHealth(config);
  const probes = plan.hosts[0]!.specs.filter((s) => checkFor(s.check).type === 'probe');
  const script = buildProbeScript(probeSections(probes).sections, 10);
  const sshLoop = async (command: string) => {
    const c0 = connections();
    const b0 = machineBusy();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < HOSTS) {
          const i = next++;
          const s = sshds[i % SSHDS]!;
          await new Promise<void>((resolve, reject) => {
            const ssh = spawn(
              'ssh',
              [
                '-q',
                '-p',
                String(proxies[i % SSHDS]!.port),
                '-i',
                s.clientKeyPath,
                '-o',
                'BatchMode=yes',
                '-o',
                'StrictHostKeyChecking=no',
                '-o',
                'UserKnownHostsFile=/dev/null',
                `${s.user}@127.0.0.1`,
                command,
              ],
              { stdio: ['ignore', 'ignore', 'ignore'] },
            );
            ssh.on('error', reject);
            ssh.on('close', () => resolve());
          });
        }
      }),
    );
    return { ms: performance.now() - t0, conns: connections() - c0, busy: machineBusy() - b0 };
  };
  const floor = await sshLoop('true');
  const baseline = await sshLoop(script);

  // bo health as the user runs it.
  const c1 = connections();
  const b1 = machineBusy();
  const cli = await measure('bin/bo', ['--config', cfgFile, 'health', '--json'], {
    ...process.env,
    BO_LOG_LEVEL: 'error',
  });
  const cliConns = connections() - c1;
  const cliBusy = machineBusy() - b1;
  const cliReport = JSON.parse(cli.stdout) as {
    summary: { line: string; ok: number; warn: number; crit: number; unknown: number };
    hosts: Array<{ results: Array<{ check: string; status: string; message: string }> }>;
  };
  // What is not ok on this machine (the same on every simulated host): print once per check.
  const seen = new Set<string>();
  for (const r of cliReport.hosts.flatMap((h) => h.results)) {
    if (r.status === 'ok' || seen.has(r.check)) continue;
    seen.add(r.check);
    console.log(`  ${r.status} ${r.check}: ${r.message}`);
  }

  // The daemon's way: one Services for both runs.
  const services = createServices({ config, log: silentLogger(), clock: systemClock });
  const runs: Array<{ ms: number; conns: number; results: number; cpuMs: number; busy: number }> = [];
  for (let i = 0; i < 2; i++) {
    const c = connections();
    const t = performance.now();
    const cpu = process.cpuUsage();
    const busy = machineBusy();
    const { report } = await performHealth(services, {
      log: silentLogger(),
      signal: new AbortController().signal,
    });
    const s = report.summary;
    const used = process.cpuUsage(cpu);
    runs.push({
      busy: machineBusy() - busy,
      cpuMs: (used.user + used.system) / 1000,
      ms: performance.now() - t,
      conns: connections() - c,
      results: s.ok + s.warn + s.crit + s.unknown,
    });
  }
  await services.close();
  const rss = process.resourceUsage().maxRSS * 1024;

  const resultCount =
    cliReport.summary.ok + cliReport.summary.warn + cliReport.summary.crit + cliReport.summary.unknown;
  const rows = [
    ['run', 'wall', 'bo CPU', 'machine CPU', 'peak RSS', 'SSH conns', 'results'],
    [
      'floor: ssh host true, 16 parallel',
      `${(floor.ms / 1000).toFixed(2)} s`,
      '-',
      `${floor.busy.toFixed(1)} s`,
      '-',
      String(floor.conns),
      '-',
    ],
    [
      'baseline: ssh client loop, 16 parallel (probe script only)',
      `${(baseline.ms / 1000).toFixed(2)} s`,
      '-',
      `${baseline.busy.toFixed(1)} s`,
      '-',
      String(baseline.conns),
      '-',
    ],
    [
      'bo health (CLI process, full check set)',
      `${(cli.ms / 1000).toFixed(2)} s`,
      '-',
      `${cliBusy.toFixed(1)} s`,
      `${(cli.peakRss / MB).toFixed(0)} MiB`,
      String(cliConns),
      String(resultCount),
    ],
    [
      'daemon-style run 1 (in process)',
      `${(runs[0]!.ms / 1000).toFixed(2)} s`,
      `${(runs[0]!.cpuMs / 1000).toFixed(2)} s`,
      `${runs[0]!.busy.toFixed(1)} s`,
      `${(rss / MB).toFixed(0)} MiB*`,
      String(runs[0]!.conns),
      String(runs[0]!.results),
    ],
    [
      'daemon-style run 2, same connections',
      `${(runs[1]!.ms / 1000).toFixed(2)} s`,
      `${(runs[1]!.cpuMs / 1000).toFixed(2)} s`,
      `${runs[1]!.busy.toFixed(1)} s`,
      '',
      String(runs[1]!.conns),
      String(runs[1]!.results),
    ],
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(
    `\nhealth: ${HOSTS} hosts on ${SSHDS} loopback sshd (login shell: ${sshds.every((s) => s.cleanShell) ? 'clean /bin/sh' : "the user's own (not root: no clean shell)"}), ${config.health.concurrency} hosts at a time; ${availableParallelism()} cores, load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`,
  );
  for (const r of rows)
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
  console.log(
    `bo health: ${cliReport.summary.line}; * peak RSS of the whole bench process (servers and proxies included)`,
  );
  console.log(
    "machine CPU: busy CPU seconds of every process on this machine during the row (the simulated hosts' sshd and probe scripts, bo, and anything else running); wall time cannot beat machine CPU / cores",
  );
  console.log(
    `target: < 10 s for ${HOSTS} hosts, ${HOSTS} connections (one per host), 0 new connections on the second run`,
  );

  tls.close();
  http.close();
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all(sshds.map((s) => s.stop()));
  certs?.cleanup();
  rmSync(dir, { recursive: true, force: true });
}

await main();
