/**
 * Scheduler benchmark: the real daemon (scheduler, state database, control socket, JSON logs)
 * with 500 jobs on 100 hosts whose bodies are no-ops, in this process. Rows:
 *   - idle baseline: a bare setTimeout loop aimed at whole seconds (timer lateness of this
 *     machine, measured in the same run);
 *   - idle daemon: 500 jobs loaded, none due: RSS and CPU;
 *   - spread: each job fires once a minute at its own second (i % 60): ~8 runs/s;
 *   - burst: all 500 fire at the same second (a fleet's 02:00), every 20 s to fit 3 bursts in a
 *     minute, through the default limits (4 at once, 1 per host).
 * Lateness = when a run started minus its cron time (jitter 0): timer delay + queueing + the
 * run-history writes. Targets: p99 < 1 s, RSS < 150 MB.
 *   node bench/scheduler.ts          (≈ 2.5 min; BENCH_PHASE_SECONDS=20 for a quick look)
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../src/config/schema.ts';
import { startDaemon } from '../src/daemon/daemon.ts';
import { createLogger } from '../src/log.ts';

const PHASE_S = Number(process.env.BENCH_PHASE_SECONDS ?? 60);
const JOBS = 500;
const HOSTS = 100;
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  name: string;
  runs?: number;
  p50?: number;
  p99?: number;
  max?: number;
  cpuPerRunMs?: number;
  cpuPerSecMs?: number;
  rssMB: number;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : Number.NaN;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function baseline(seconds: number): Promise<Row> {
  const late: number[] = [];
  const cpu0 = cpuMs();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const target = Math.ceil((Date.now() + 1) / 1000) * 1000;
    await sleep(target - Date.now());
    late.push(Date.now() - target);
  }
  return {
    name: 'idle baseline (setTimeout loop)',
    runs: late.length,
    p50: pct(late, 50),
    p99: pct(late, 99),
    max: Math.max(...late),
    cpuPerSecMs: (cpuMs() - cpu0) / seconds,
    rssMB: process.memoryUsage().rss / MB,
  };
}

function config(dir: string, schedule: (i: number) => string): Config {
  const hosts = Object.fromEntries(
    Array.from({ length: HOSTS }, (_, h) => [
      `host${h}`,
      { address: `10.0.${h >> 8}.${h & 255}`, privateKey: '/etc/bo/id_ed25519' },
    ]),
  );
  const jobs = Object.fromEntries(
    Array.from({ length: JOBS }, (_, i) => [
      `job${i}`,
      { host: `host${i % HOSTS}`, paths: ['/srv'], storage: 'repo', schedule: schedule(i), catchUp: false },
    ]),
  );
  return Config.parse({
    stateDir: join(dir, 'state'),
    daemon: { socket: join(dir, 'bo.sock'), http: { listen: '127.0.0.1:0' } },
    storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
    hosts,
    jobs,
  });
}

async function phase(
  name: string,
  dir: string,
  schedule: (i: number) => string,
  seconds: number,
): Promise<Row> {
  const log = createLogger({
    level: 'info',
    destination: createWriteStream(join(dir, `${name.split(' ')[0]}.log`)),
  });
  const daemon = await startDaemon({
    loaded: { file: 'bench', config: config(dir, schedule), embedded: false },
    log,
    env: {},
    execute: async () => ({ summary: 'no-op' }),
  });
  const late: number[] = [];
  let finished = 0;
  daemon.scheduler.subscribe((e) => {
    if (e.type === 'started') late.push(e.lateMs);
    if (e.type === 'finished') finished++;
  });
  await sleep(2000); // settle after start-up
  late.length = 0;
  finished = 0;
  const cpu0 = cpuMs();
  await sleep(seconds * 1000);
  const cpu = cpuMs() - cpu0;
  const rssMB = process.memoryUsage().rss / MB;
  await daemon.stop();
  await rm(join(dir, 'state'), { recursive: true, force: true });
  return {
    name,
    runs: finished,
    p50: pct(late, 50),
    p99: pct(late, 99),
    max: late.length ? Math.max(...late) : Number.NaN,
    cpuPerRunMs: finished ? cpu / finished : undefined,
    cpuPerSecMs: cpu / seconds,
    rssMB,
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bo-bench-scheduler-'));
  const rows: Row[] = [];
  try {
    rows.push(await baseline(Math.min(30, PHASE_S)));
    rows.push(await phase('idle daemon (500 jobs, none due)', dir, () => '0 0 1 1 *', Math.min(15, PHASE_S)));
    rows.push(await phase('spread (each job once a minute)', dir, (i) => `${i % 60} * * * * *`, PHASE_S));
    rows.push(await phase('burst (500 at the same second)', dir, () => '*/20 * * * * *', PHASE_S));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const f = (v: number | undefined, d = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  console.log(
    `scheduler: ${JOBS} jobs on ${HOSTS} hosts, no-op bodies, ${PHASE_S}s per phase, node ${process.version}`,
  );
  console.log(
    [
      'row'.padEnd(36),
      'runs',
      'late p50 ms',
      'late p99 ms',
      'max ms',
      'cpu/run ms',
      'cpu ms/s',
      'rss MB',
    ].join('  '),
  );
  for (const r of rows) {
    console.log(
      [
        r.name.padEnd(36),
        String(r.runs ?? '-').padStart(4),
        f(r.p50).padStart(11),
        f(r.p99).padStart(11),
        f(r.max).padStart(6),
        f(r.cpuPerRunMs, 2).padStart(10),
        f(r.cpuPerSecMs).padStart(8),
        f(r.rssMB).padStart(6),
      ].join('  '),
    );
  }
  console.log(`peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB`);
  console.log(JSON.stringify({ bench: 'scheduler', rows }));
}

await main();
