/**
 * The cluster's members (table `<schema>.nodes`): each daemon upserts its row every few seconds
 * with its heartbeat, its version and the hash of the config it runs. A node whose heartbeat is
 * older than `coordination.nodeTimeout` is dead; nodes running different configs are reported.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/schema.ts';
import type { PgPool } from './pg.ts';

export interface ClusterNode {
  name: string;
  pid: number;
  version: string;
  configHash: string;
  startedAt: string;
  heartbeatAt: string;
  stoppedAt?: string | undefined;
  socket?: string | undefined;
  running: number;
  /** Heartbeat older than the node timeout and not stopped cleanly. */
  dead: boolean;
}

/**
 * A fingerprint of what must be the same on every node: everything but the node-local settings
 * (stateDir, daemon.socket, daemon.http, coordination.nodeName). Secrets count by where they are
 * read from, never by their value (a SecretValue serialises as "[redacted]").
 */
export function configHash(config: Config): string {
  const { stateDir: _s, daemon, coordination, ...shared } = config;
  const { socket: _k, http: _h, ...daemonShared } = daemon;
  const { nodeName: _n, ...coord } = coordination ?? ({} as NonNullable<Config['coordination']>);
  const stable = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(stable);
    if (v && typeof v === 'object' && v.constructor === Object)
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, stable((v as Record<string, unknown>)[k])]),
      );
    if (v && typeof v === 'object' && 'source' in v)
      return `secret:${String((v as { source: unknown }).source)}`;
    return v;
  };
  const doc = JSON.stringify(stable({ ...shared, daemon: daemonShared, coordination: coord }));
  return createHash('sha256').update(doc).digest('hex').slice(0, 16);
}

/** This node's name: the configured one, else the hostname and the control socket. */
export function defaultNodeName(config: Config): string {
  return config.coordination?.nodeName ?? `${hostname()}:${config.daemon.socket}`;
}

export interface NodeRegistry {
  beat(n: {
    name: string;
    pid: number;
    version: string;
    configHash: string;
    startedAt: string;
    socket: string;
    running: number;
  }): Promise<void>;
  stopped(name: string): Promise<void>;
  list(nodeTimeoutMs: number): Promise<ClusterNode[]>;
}

export function nodeRegistry(pool: PgPool, s: string): NodeRegistry {
  return {
    async beat(n) {
      await pool.query(
        `INSERT INTO ${s}.nodes (name, pid, version, config_hash, started_at, heartbeat_at, socket, running)
         VALUES ($1, $2, $3, $4, $5, now(), $6, $7)
         ON CONFLICT (name) DO UPDATE SET pid = $2, version = $3, config_hash = $4, started_at = $5,
           heartbeat_at = now(), stopped_at = NULL, socket = $6, running = $7`,
        [n.name, n.pid, n.version, n.configHash, n.startedAt, n.socket, n.running],
      );
    },
    async stopped(name) {
      await pool.query(`UPDATE ${s}.nodes SET stopped_at = now(), running = 0 WHERE name = $1`, [name]);
    },
    async list(nodeTimeoutMs) {
      const { rows } = await pool.query(
        `SELECT *, (stopped_at IS NULL AND heartbeat_at < now() - $1 * interval '1 millisecond') AS dead
         FROM ${s}.nodes ORDER BY name`,
        [nodeTimeoutMs],
      );
      return rows.map((r) => ({
        name: String(r.name),
        pid: Number(r.pid),
        version: String(r.version),
        configHash: String(r.config_hash),
        startedAt: (r.started_at as Date).toISOString(),
        heartbeatAt: (r.heartbeat_at as Date).toISOString(),
        stoppedAt: r.stopped_at ? (r.stopped_at as Date).toISOString() : undefined,
        socket: r.socket ?? undefined,
        running: Number(r.running),
        dead: Boolean(r.dead),
      }));
    },
  };
}

/** Problems of the cluster's membership, one line each, for bo status and the report. */
export function clusterProblems(nodes: ClusterNode[], self: string): string[] {
  const problems: string[] = [];
  for (const n of nodes)
    if (n.dead) problems.push(`cluster node ${n.name} is dead: last heartbeat ${n.heartbeatAt}`);
  const live = nodes.filter((n) => !n.dead && !n.stoppedAt);
  const mine = nodes.find((n) => n.name === self)?.configHash;
  const others = live.filter((n) => n.configHash !== mine);
  if (mine && others.length > 0)
    problems.push(
      `cluster nodes run different configs: ${self} has ${mine}, ${others.map((n) => `${n.name} has ${n.configHash}`).join(', ')}`,
    );
  return problems;
}
