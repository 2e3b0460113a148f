/**
 * Cluster benchmark: three real `bo daemon` processes on one PostgreSQL (coordination: postgres)
 * against one daemon with the same load: 2,000 jobs over 500 hosts, each once a minute at its own
 * second (~33 runs/s), no-op bodies (`--bench-noop-jobs`), 32 runs at once, 1 per host. Reports
 * schedule lateness p50/p99 (the daemons' own `lateMs`: start time minus cron time), duplicate and
 * missed slots (from the cluster's run history), RSS per node, and the failover time: one job's
 * no-op lasts a minute (BO_BENCH_SLOW_JOB); the node running it is killed with SIGKILL, and the
 * time from the kill to the retried run starting on another node is measured.
 * RSS is sampled once a second from /proc: "steady" is the median and the max of the samples in
 * the phase's second half (after warm-up), "peak" the max of all; the target names the steady one.
 * The daemons start the way the systemd unit starts them: node with bin/bo's shebang options and
 * environment (the memory settings), on bin/bo.
 * Targets: p99 lateness < 1 s, 0 duplicates, failover < 30 s, steady RSS ≤ 150 MB per node.
 *   node bench/cluster.ts        (≈ 3.5 min; BENCH_PHASE_SECONDS=30 for a quicker look)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseShebang } from '../src/daemon/unit.ts';
import { startPostgres } from '../tests/fixtures/postgres.ts';
import { freePort } from '../tests/fixtures/tcp-proxy.ts';

const PHASE_S = Number(process.env.BENCH_PHASE_SECONDS ?? 60);
const BO = fileURLToPath(new URL('../bin/bo', import.meta.url));
const JOBS = 2000;
const HOSTS = 500;
const NODES = 3;
const SLOW = 'slow';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// How the systemd unit runs the daemon: bin/bo's shebang environment and Node options.
const SHEBANG = parseShebang(readFileSync(BO, 'utf8').split('\n', 1)[0]!);
const SHEBANG_ENV = Object.fromEntries(SHEBANG.env.map((kv) => kv.split('=', 2) as [string, string]));

type LogLine = { time: number; msg: string; lateMs?: number; job?: string; attempt?: number; node?: string };

function logLines(file: string): LogLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}
const rssOf = (pid: number) => {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};
function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : Number.NaN;
}

function writeConfig(dir: string, node: number, coordination: object | undefined, slowCron: string): string {
  mkdirSync(dir, { recursive: true });
  const key = join(dir, 'id_ed25519');
  writeFileSync(key, 'not a real key: job bodies never connect\n', { mode: 0o600 });
  const hosts = Object.fromEntries(
    Array.from({ length: HOSTS }, (_, h) => [
      `host${h}`,
      { address: `10.1.${h >> 8}.${h & 255}`, privateKey: key },
    ]),
  );
  const jobs: Record<string, object> = Object.fromEntries(
    Array.from({ length: JOBS }, (_, i) => [
      `job${i}`,
      {
        host: `host${i % HOSTS}`,
        paths: ['/srv'],
        storage: 'repo',
        schedule: `${i % 60} * * * * *`,
        catchUp: false,
      },
    ]),
  );
  jobs[SLOW] = {
    host: 'host0',
    paths: ['/srv'],
    storage: 'repo',
    schedule: slowCron,
    retries: 2,
    retryDelay: '1s',
  };
  const nodeDir = join(dir, `node${node}`);
  mkdirSync(nodeDir, { recursive: true });
  const file = join(nodeDir, 'bo.yaml');
  writeFileSync(
    file,
    stringify({
      stateDir: join(nodeDir, 'state'),
      daemon: { socket: join(nodeDir, 'bo.sock'), concurrency: 32, perHostConcurrency: 1 },
      storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
      hosts,
      jobs,
      ...(coordination ? { coordination: { ...coordination, nodeName: `node${node}` } } : {}),
    }),
  );
  return file;
}

interface Daemon {
  child: ChildProcess;
  log: string;
  exited: Promise<unknown>;
}

async function spawnDaemon(cfg: string, log: string, env: NodeJS.ProcessEnv): Promise<Daemon> {
  const out = openSync(log, 'w');
  const args = [...SHEBANG.nodeOptions, BO, '--config', cfg, 'daemon', '--bench-noop-jobs'];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...SHEBANG_ENV,
      BO_LOG_LEVEL: 'info',
      BO_BENCH: '1',
      BO_BENCH_SLOW_JOB: SLOW,
      ...env,
    },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  const exited = new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 600 && !logLines(log).some((l) => l.msg === 'Daemon started'); i++) {
    if (child.exitCode !== null) throw new Error(`bo daemon exited (${child.exitCode})`);
    await sleep(100);
  }
  return { child, log, exited };
}

/** A cron expression for the one second `inMs` from now (UTC). */
function cronAt(inMs: number): string {
  const at = new Date(Math.ceil((Date.now() + inMs) / 1000) * 1000);
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}

/** One node's RSS in MB: the median and max of the steady samples (second half), the peak of all. */
interface Rss {
  steady: number;
  steadyMax: number;
  peak: number;
}

/** Samples each pid's RSS once a second for PHASE_S seconds. */
async function sampleRss(pids: number[]): Promise<Rss[]> {
  const samples = pids.map((): number[] => []);
  for (let s = 0; s < PHASE_S; s++) {
    await sleep(1000);
    for (const [i, pid] of pids.entries()) samples[i]!.push(rssOf(pid));
  }
  return samples.map((all) => {
    const steady = all.slice(Math.floor(all.length / 2));
    return { steady: pct(steady, 50), steadyMax: Math.max(...steady), peak: Math.max(...all) };
  });
}

interface Row {
  name: string;
  runs: number;
  p50: number;
  p99: number;
  max: number;
  rss: Rss[];
  duplicates?: number;
  missed?: number;
  failoverMs?: number;
  victimShare?: string;
}

function lateness(logs: string[], t0: number, t1: number) {
  const late = logs
    .flatMap(logLines)
    .filter((l) => l.msg === 'Run started' && l.time >= t0 && l.time < t1 && l.job !== SLOW)
    .map((l) => l.lateMs ?? Number.NaN);
  return {
    runs: late.length,
    p50: pct(late, 50),
    p99: pct(late, 99),
    max: late.length ? Math.max(...late) : Number.NaN,
  };
}

async function single(dir: string): Promise<Row> {
  const cfg = writeConfig(join(dir, 'single'), 1, undefined, '0 0 1 1 *');
  const d = await spawnDaemon(cfg, join(dir, 'single.log'), {});
  try {
    await sleep(3000);
    const t0 = Date.now();
    const rss = await sampleRss([d.child.pid!]);
    return { name: 'one daemon (SQLite)', ...lateness([d.log], t0, Date.now()), rss };
  } finally {
    d.child.kill('SIGTERM');
    await d.exited;
  }
}

async function cluster(dir: string): Promise<Row> {
  const port = await freePort();
  const pg = startPostgres({ tcpPort: port });
  if (!pg) throw new Error('PostgreSQL 15 is needed (Debian postgresql-15, run as root)');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const coordination = {
    type: 'postgres',
    url: { env: 'BO_PG_URL' },
    leaseTimeout: '10s',
    nodeTimeout: '15s',
  };
  const slowCron = cronAt(PHASE_S * 1000 + 15_000);
  const nodes: Daemon[] = [];
  try {
    for (let i = 1; i <= NODES; i++) {
      const cfg = writeConfig(join(dir, 'cluster'), i, coordination, slowCron);
      nodes.push(await spawnDaemon(cfg, join(dir, `node${i}.log`), { BO_PG_URL: url }));
    }
    await sleep(3000);
    const t0 = Date.now();
    const rss = await sampleRss(nodes.map((n) => n.child.pid!));
    const t1 = Date.now();
    const row: Row = {
      name: `${NODES} daemons (PostgreSQL)`,
      ...lateness(
        nodes.map((n) => n.log),
        t0,
        t1,
      ),
      rss,
    };
    // Failover: the node running the minute-long run is killed; how soon does another retry it?
    let victim: number | undefined;
    for (let i = 0; i < 600 && victim === undefined; i++) {
      victim = nodes.findIndex((n) => logLines(n.log).some((l) => l.msg === 'Run started' && l.job === SLOW));
      if (victim < 0) victim = undefined;
      await sleep(100);
    }
    if (victim === undefined) throw new Error('the slow run never started');
    await sleep(2000);
    const started = nodes.map((n) => logLines(n.log).filter((l) => l.msg === 'Run started').length);
    row.victimShare = `node${victim + 1}: ${started[victim]} of ${started.reduce((a, b) => a + b, 0)} runs`;
    const killedAt = Date.now();
    nodes[victim]!.child.kill('SIGKILL');
    await nodes[victim]!.exited;
    let retried: LogLine | undefined;
    for (let i = 0; i < 1200 && !retried; i++) {
      await sleep(100);
      retried = nodes
        .filter((_, k) => k !== victim)
        .flatMap((n) => logLines(n.log))
        .find((l) => l.msg === 'Run started' && l.job === SLOW && l.attempt === 2);
    }
    row.failoverMs = retried ? retried.time - killedAt : Number.NaN;
    const q = (sql: string) => pg.psql(sql);
    row.duplicates = Number(
      q(
        `SELECT count(*) FROM (SELECT job, scheduled_at FROM bo.runs WHERE attempt = 1 GROUP BY job, scheduled_at HAVING count(*) > 1) d`,
      ),
    );
    // Slots due while the cluster ran (with 3 s margins) that have no run.
    const from = new Date(Math.ceil((t0 + 3000) / 1000) * 1000).toISOString();
    const to = new Date(Math.floor((t1 - 3000) / 1000) * 1000).toISOString();
    row.missed = Number(
      q(
        `SELECT count(*) FROM generate_series('${from}'::timestamptz, '${to}'::timestamptz, interval '1 second') s,
           generate_series(0, ${JOBS - 1}) j
         WHERE j % 60 = extract(second FROM s)::int
           AND NOT EXISTS (SELECT 1 FROM bo.runs r WHERE r.job = 'job' || j AND r.scheduled_at = s)`,
      ),
    );
    return row;
  } finally {
    for (const n of nodes)
      if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGTERM');
    await Promise.all(nodes.map((n) => n.exited));
    pg.stop();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bo-bench-cluster-'));
  const rows: Row[] = [];
  try {
    rows.push(await single(dir));
    rows.push(await cluster(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const f = (v: number | undefined, d = 0) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  console.log(
    `cluster: ${JOBS} no-op jobs on ${HOSTS} hosts, each once a minute (~${Math.round(JOBS / 60)} runs/s), ${PHASE_S}s, node ${process.version}`,
  );
  console.log('targets: lateness p99 < 1000 ms, 0 duplicates, failover < 30 s, steady RSS ≤ 150 MB per node');
  console.log('RSS MB per node: steady median / steady max (second half of the phase) / peak (whole phase)');
  console.log(
    [
      'row'.padEnd(26),
      'runs',
      'late p50 ms',
      'late p99 ms',
      'max ms',
      'dup',
      'missed',
      'failover s',
      'RSS MB per node (steady/max/peak)',
    ].join('  '),
  );
  for (const r of rows)
    console.log(
      [
        r.name.padEnd(26),
        String(r.runs).padStart(4),
        f(r.p50).padStart(11),
        f(r.p99).padStart(11),
        f(r.max).padStart(6),
        f(r.duplicates).padStart(3),
        f(r.missed).padStart(6),
        f(r.failoverMs === undefined ? undefined : r.failoverMs / 1000, 1).padStart(10),
        r.rss.map((x) => `${f(x.steady)}/${f(x.steadyMax)}/${f(x.peak)}`).join('  '),
      ].join('  '),
    );
  const c = rows[1];
  if (c?.victimShare) console.log(`killed: ${c.victimShare}`);
  console.log(JSON.stringify({ bench: 'cluster', rows }));
}

await main();
