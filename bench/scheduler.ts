/**
 * Scheduler benchmark: the real daemon, `bin/bo --config X daemon`, as a child process with 500
 * jobs on 100 hosts. Job bodies are no-ops through the hidden, benchmark-only flag
 * `--bench-noop-jobs`; everything else is what production runs: the scheduler, the state
 * database writes of each run, the JSON log lines, the control socket. Rows:
 *   - idle baseline: a bare setTimeout loop in this process aimed at whole seconds (the timer
 *     lateness of this machine, measured in the same run);
 *   - idle daemon: 500 jobs loaded, none due;
 *   - spread: each job fires once a minute at its own second (i % 60): ~8 runs/s;
 *   - burst: all 500 fire at the same second (a fleet's 02:00), every 20 s to fit 3 bursts in a
 *     minute, through the default limits (4 at once, 1 per host).
 * Lateness is the daemon's own `lateMs` ("Run started" log line): start time minus cron time
 * (jitter 0), so timer delay + queueing + the history writes. CPU is utime+stime of the daemon
 * from /proc/PID/stat; memory is VmRSS (and PSS from smaps_rollup) of the daemon, sampled each
 * second: at the end of the phase, its peak during the phase, and 5 s after the load stopped
 * (a SIGHUP back to the idle config). Targets: p99 < 1 s, RSS < 150 MB.
 *   node bench/scheduler.ts       (≈ 3.5 min; BENCH_PHASE_SECONDS=30 for a quicker look)
 *   BENCH_BO_BIN=/tmp/x/bin/bo    measures another bo (an installed copy) instead of this checkout's
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const PHASE_S = Number(process.env.BENCH_PHASE_SECONDS ?? 60);
const BO = process.env.BENCH_BO_BIN ?? fileURLToPath(new URL('../bin/bo', import.meta.url));
const JOBS = 500;
const HOSTS = 100;
const TARGET_P99_MS = 1000;
const TARGET_RSS_MB = 150;
const MB = 1024 * 1024;
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  name: string;
  runs?: number | undefined;
  p50?: number | undefined;
  p99?: number | undefined;
  max?: number | undefined;
  cpuPerRunMs?: number | undefined;
  cpuPerSecMs: number;
  rssMB: number;
  peakRssMB?: number | undefined;
  pssMB?: number | undefined;
  afterRssMB?: number | undefined;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : Number.NaN;
}

/** utime + stime of a process, in ms. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** A "Key:   123 kB" field of a /proc file, in MB. */
function kbField(file: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
  return m ? (Number(m[1]) * 1024) / MB : Number.NaN;
}
const rssOf = (pid: number) => kbField(`/proc/${pid}/status`, 'VmRSS');
const pssOf = (pid: number) => kbField(`/proc/${pid}/smaps_rollup`, 'Pss');

async function baseline(seconds: number): Promise<Row> {
  const late: number[] = [];
  const cpu0 = cpuOf(process.pid);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const target = Math.ceil((Date.now() + 1) / 1000) * 1000;
    await sleep(target - Date.now());
    late.push(Date.now() - target);
  }
  return {
    name: 'idle baseline (setTimeout, bare node)',
    runs: late.length,
    p50: pct(late, 50),
    p99: pct(late, 99),
    max: Math.max(...late),
    cpuPerSecMs: (cpuOf(process.pid) - cpu0) / seconds,
    rssMB: rssOf(process.pid),
  };
}

function writeConfig(dir: string, schedule: (i: number) => string): string {
  const key = join(dir, 'id_ed25519');
  if (!existsSync(key)) writeFileSync(key, 'not a real key: job bodies never connect\n', { mode: 0o600 });
  const hosts = Object.fromEntries(
    Array.from({ length: HOSTS }, (_, h) => [
      `host${h}`,
      { address: `10.0.${h >> 8}.${h & 255}`, privateKey: key },
    ]),
  );
  const jobs = Object.fromEntries(
    Array.from({ length: JOBS }, (_, i) => [
      `job${i}`,
      { host: `host${i % HOSTS}`, paths: ['/srv'], storage: 'repo', schedule: schedule(i), catchUp: false },
    ]),
  );
  const file = join(dir, 'bo.yaml');
  writeFileSync(
    file,
    stringify({
      stateDir: join(dir, 'state'),
      daemon: { socket: join(dir, 'bo.sock') },
      storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
      hosts,
      jobs,
    }),
  );
  return file;
}

type LogLine = { time: number; msg: string; lateMs?: number };
function logLines(file: string): LogLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

async function until(f: () => boolean, what: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (f()) return;
    if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}) before ${what}`);
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const idle = () => '0 0 1 1 *';

async function phase(
  name: string,
  dir: string,
  schedule: (i: number) => string,
  seconds: number,
): Promise<Row> {
  const cfg = writeConfig(dir, schedule);
  const logFile = join(dir, `${name.split(' ')[0]}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(BO, ['--config', cfg, 'daemon', '--bench-noop-jobs'], {
    env: { ...process.env, BO_LOG_LEVEL: 'info', BO_BENCH: '1' },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  const pid = child.pid!;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await until(() => logLines(logFile).some((l) => l.msg === 'Daemon started'), 'it started', child);
    await sleep(2000); // settle after start-up
    const t0 = Date.now();
    const cpu0 = cpuOf(pid);
    let peak = 0;
    for (let s = 0; s < seconds; s++) {
      await sleep(1000);
      peak = Math.max(peak, rssOf(pid));
    }
    const cpu = cpuOf(pid) - cpu0;
    const t1 = Date.now();
    const [rssMB, pssMB] = [rssOf(pid), pssOf(pid)];
    writeConfig(dir, idle); // then: what the load left behind
    child.kill('SIGHUP');
    await sleep(5000);
    const afterRssMB = rssOf(pid);
    const lines = logLines(logFile).filter((l) => l.time >= t0 && l.time < t1);
    const late = lines.filter((l) => l.msg === 'Run started').map((l) => l.lateMs ?? Number.NaN);
    const finished = lines.filter((l) => l.msg === 'Run finished').length;
    return {
      name,
      runs: finished,
      p50: pct(late, 50),
      p99: pct(late, 99),
      max: late.length ? Math.max(...late) : Number.NaN,
      cpuPerRunMs: finished ? cpu / finished : undefined,
      cpuPerSecMs: cpu / seconds,
      rssMB,
      peakRssMB: Math.max(peak, rssMB),
      pssMB,
      afterRssMB,
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(join(dir, 'state'), { recursive: true, force: true });
  }
}

/** Which code bin/bo runs (its own rule): dist/ when built and no source file is newer. */
function entryOf(bo: string): string {
  const root = new URL('../', `file://${realpathSync(bo)}`);
  const dist = fileURLToPath(new URL('dist/cli/main.js', root));
  const src = fileURLToPath(new URL('src/', root));
  if (!existsSync(dist)) return 'src/*.ts (type stripping)';
  if (!existsSync(src)) return 'dist/ (installed)';
  const built = statSync(dist).mtimeMs;
  const stale = readdirSync(src, { recursive: true, withFileTypes: true }).some(
    (e) => e.isFile() && statSync(`${e.parentPath}/${e.name}`).mtimeMs > built,
  );
  return stale ? 'src/*.ts (type stripping)' : 'dist/';
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bo-bench-scheduler-'));
  const rows: Row[] = [];
  try {
    rows.push(await baseline(Math.min(30, PHASE_S)));
    rows.push(await phase('idle daemon (500 jobs, none due)', dir, idle, Math.min(15, PHASE_S)));
    rows.push(await phase('spread (each job once a minute)', dir, (i) => `${i % 60} * * * * *`, PHASE_S));
    rows.push(await phase('burst (500 at the same second)', dir, () => '*/20 * * * * *', PHASE_S));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const f = (v: number | undefined, d = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  console.log(
    `scheduler: the real \`bo daemon\` (${BO}, ${entryOf(BO)}), ${JOBS} jobs on ${HOSTS} hosts, no-op bodies, ${PHASE_S}s per phase, node ${process.version}`,
  );
  console.log(`targets: scheduling lateness p99 < ${TARGET_P99_MS} ms, daemon RSS < ${TARGET_RSS_MB} MB`);
  const head = ['row'.padEnd(38), 'runs', 'late p50 ms', 'late p99 ms', 'max ms', 'cpu/run ms', 'cpu ms/s'];
  console.log([...head, 'rss MB', 'peak MB', 'pss MB', 'after MB', 'targets'].join('  '));
  for (const r of rows) {
    const daemonRow = r.peakRssMB !== undefined;
    const ok =
      !daemonRow ||
      (((r.p99 ?? 0) < TARGET_P99_MS || Number.isNaN(r.p99 ?? 0)) && r.peakRssMB! < TARGET_RSS_MB);
    console.log(
      [
        r.name.padEnd(38),
        String(r.runs ?? '-').padStart(4),
        f(r.p50).padStart(11),
        f(r.p99).padStart(11),
        f(r.max).padStart(6),
        f(r.cpuPerRunMs, 2).padStart(10),
        f(r.cpuPerSecMs).padStart(8),
        f(r.rssMB).padStart(6),
        f(r.peakRssMB).padStart(7),
        f(r.pssMB).padStart(6),
        f(r.afterRssMB).padStart(8),
        daemonRow ? (ok ? 'met' : 'MISSED') : 'baseline',
      ].join('  '),
    );
  }
  console.log(JSON.stringify({ bench: 'scheduler', bo: BO, rows }));
}

await main();
