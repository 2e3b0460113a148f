/**
 * A throwaway cluster for tests: a real PostgreSQL on loopback, a shared filesystem repository,
 * and real `bo daemon` processes, each with its own stateDir and control socket (the node-local
 * settings) and otherwise the same config. Everything is stopped by cleanUp().
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type PostgresFixture, startPostgres } from '../../fixtures/postgres.ts';
import { freePort } from '../../fixtures/tcp-proxy.ts';
import { until } from '../../fixtures/until.ts';
import { type DaemonProc, spawnDaemon } from '../daemon/daemon-proc.ts';

export interface ClusterRunRow {
  id: string;
  job: string;
  trigger: string;
  attempt: number;
  scheduled_at: string | null;
  started_at: string | null;
  outcome: string | null;
  node: string | null;
  backup_id: string | null;
  error: string | null;
  queue_job: string | null;
}

export interface ClusterEnv {
  dir: string;
  repo: string;
  pg: PostgresFixture;
  url: string;
  /** The config of node i (same content but stateDir and socket). */
  cfg(i: number): string;
  socket(i: number): string;
  write(config: Record<string, unknown>, nodes?: number): void;
  start(i: number, opts?: { url?: string; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<DaemonProc>;
  runs(): ClusterRunRow[];
  sql(q: string): string;
}

const cleanups: Array<() => Promise<void> | void> = [];

export async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

/** Undefined when PostgreSQL cannot be run here (reported by the fixture). */
export async function clusterEnv(): Promise<ClusterEnv | undefined> {
  const pg = startPostgres({ tcpPort: await freePort() });
  if (!pg) return undefined;
  cleanups.push(() => pg.stop());
  const dir = await mkdtemp(join(tmpdir(), 'bo-cluster-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const url = `postgres://postgres@127.0.0.1:${pg.tcpPort}/postgres`;
  const nodeDir = (i: number) => join(dir, `node${i}`);
  const e: ClusterEnv = {
    dir,
    repo: join(dir, 'repo'),
    pg,
    url,
    cfg: (i) => join(nodeDir(i), 'bo.yaml'),
    socket: (i) => join(nodeDir(i), 'bo.sock'),
    write(config, nodes = 3) {
      for (let i = 1; i <= nodes; i++) {
        mkdirSync(nodeDir(i), { recursive: true });
        const daemon = { ...((config.daemon as object | undefined) ?? {}), socket: e.socket(i) };
        writeFileSync(
          e.cfg(i),
          stringify({
            ...config,
            stateDir: join(nodeDir(i), 'state'),
            daemon,
            coordination: { ...(config.coordination as object), nodeName: `node${i}` },
          }),
        );
      }
    },
    async start(i, opts = {}) {
      const d = await spawnDaemon(e.cfg(i), { BO_PG_URL: opts.url ?? url, ...opts.env }, { args: opts.args });
      cleanups.push(async () => {
        if (d.child.exitCode === null && d.child.signalCode === null) {
          d.child.kill('SIGKILL');
          await d.exited;
        }
      });
      return d;
    },
    sql: (q) => pg.psql(q),
    runs() {
      const out = pg.psql(
        `SELECT coalesce(json_agg(r ORDER BY r.queued_at), '[]') FROM (SELECT id, job, trigger, attempt, scheduled_at, started_at, outcome, node, backup_id, error, queue_job, queued_at FROM bo.runs) r`,
      );
      return JSON.parse(out) as ClusterRunRow[];
    },
  };
  return e;
}

/** The coordination section every test uses: short leases so failover fits in a test. */
export function coordination(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'postgres', url: { env: 'BO_PG_URL' }, leaseTimeout: '10s', nodeTimeout: '12s', ...extra };
}

/** A cron expression for one second, `inMs` from now (UTC). */
export function cronAt(inMs: number): { cron: string; at: Date } {
  const at = new Date(Math.ceil((Date.now() + inMs) / 1000) * 1000);
  return {
    cron: `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`,
    at,
  };
}

export function manifests(
  repo: string,
  job: string,
): Array<{ id: string; chain: { type: string; level: number; parent: string | null } }> {
  const dir = join(repo, job);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((id) => existsSync(join(dir, id, 'manifest.json')))
    .map((id) => JSON.parse(readFileSync(join(dir, id, 'manifest.json'), 'utf8')));
}

/** The end ('Run finished' or 'Run failed') of one run on a node; never an earlier run's. */
export function runEnd(d: DaemonProc, runId: unknown, ms: number): Promise<Record<string, unknown>> {
  return d.waitFor((l) => (l.msg === 'Run finished' || l.msg === 'Run failed') && l.runId === runId, ms);
}

/**
 * The rows `pick` selects once none is open. A run logs its end before its history write lands
 * (the write never blocks the run), so a row may still lack its outcome just after the log line.
 */
export async function settledRuns(
  c: ClusterEnv,
  pick: (r: ClusterRunRow) => boolean = () => true,
  ms = 30_000,
): Promise<ClusterRunRow[]> {
  let rows: ClusterRunRow[] = [];
  await until(
    () => {
      rows = c.runs().filter(pick);
      return !rows.some((r) => r.outcome === null);
    },
    ms,
    100,
  );
  return rows;
}
