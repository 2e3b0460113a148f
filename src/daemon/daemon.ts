/**
 * `bo daemon`: the scheduler, the run history and the control endpoint in one long-running
 * process. startDaemon opens everything and returns a handle; the CLI command wires SIGHUP to
 * reload() and SIGTERM/SIGINT to stop().
 */

import { openStateDb, type StateDb } from '../catalog/db.ts';
import { getRun, latestFinished, pruneRuns } from '../catalog/runs.ts';
import { type Clock, systemClock } from '../clock.ts';
import { type LoadedConfig, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { BoError, ConfigError, errorMessage } from '../errors.ts';
import { latestReport } from '../health/report-store.ts';
import type { Logger } from '../log.ts';
import { createServices, type Services } from '../services.ts';
import { TOOL_VERSION } from '../version.ts';
import { type ControlServer, startControlServer } from './control.ts';
import type { HttpServer } from './http.ts';
import { CANCEL_WAIT_MS, createScheduler, type JobExecutor, type Scheduler } from './scheduler.ts';
import { buildStatus, type DaemonInfo, listJobs } from './status.ts';
import { type Notify, systemdNotifier } from './systemd.ts';

export interface DaemonOptions {
  loaded: LoadedConfig;
  log: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Re-reads the config on reload (default: the same file through loadConfig). */
  reload?: () => LoadedConfig;
  /** Replaces the job registry (benchmarks and tests). */
  execute?: JobExecutor;
}

/** The running daemon; also what other daemon parts (the HTTP report, metrics) build on. */
export interface DaemonHandle {
  info: DaemonInfo;
  config(): Config;
  services(): Services;
  db: StateDb;
  scheduler: Scheduler;
  log: Logger;
  /** Re-reads the config; an invalid one is logged with every problem and the old one stays. */
  reload(): boolean;
  /** Stops scheduling, waits shutdownGrace for running jobs, cancels the rest, closes everything. */
  stop(): Promise<void>;
}

const HISTORY_PRUNE_EVERY_MS = 3_600_000;
/** Closing the control socket, connections and the database after the runs ended. */
const STOP_MARGIN_MS = 15_000;

export async function startDaemon(opts: DaemonOptions): Promise<DaemonHandle> {
  const { log } = opts;
  const clock = opts.clock ?? systemClock;
  const env = opts.env ?? process.env;
  let loaded = opts.loaded;
  const reloadConfig = opts.reload ?? (() => loadConfig({ flag: loaded.file, env }));
  const notify: Notify = systemdNotifier(env, log);
  let db: StateDb;
  try {
    db = openStateDb(loaded.config.stateDir);
    // node:sqlite is synchronous: an fsync per commit would stall the event loop (and every
    // schedule) for each of the three writes a run makes. In WAL mode NORMAL stays consistent
    // after a crash and only risks the last few history rows on power loss.
    db.exec('PRAGMA synchronous = NORMAL');
  } catch (err) {
    throw new BoError(`cannot open the state database in ${loaded.config.stateDir}: ${errorMessage(err)}`, {
      hint: 'the daemon needs write access to stateDir (systemd: StateDirectory=bo / ReadWritePaths)',
    });
  }
  let services = createServices({ config: loaded.config, log, clock });
  // With coordination: one node of a cluster on PostgreSQL (src/cluster/); the scheduler below
  // then only serves the node-local parts (it schedules nothing: its config has no jobs).
  const cluster = loaded.config.coordination
    ? await startCluster({ loaded, services, clock, log, execute: opts.execute, db })
    : undefined;
  if (cluster) services = cluster.services(services);
  const scheduler = createScheduler({
    config: cluster ? { ...loaded.config, jobs: {} } : loaded.config,
    services,
    clock,
    log,
    db,
    execute: opts.execute,
  });
  const info: DaemonInfo = {
    pid: process.pid,
    version: TOOL_VERSION,
    startedAt: clock.now().toISOString(),
    configFile: loaded.file,
    socket: loaded.config.daemon.socket,
  };

  let control: ControlServer;
  try {
    control = await startControlServer({
      path: info.socket,
      log,
      handlers: cluster?.handlers({ info, config: () => loaded.config, db }) ?? {
        ping: () => ({ pid: info.pid, version: info.version }),
        status: () =>
          buildStatus({
            config: loaded.config,
            db,
            now: clock.now(),
            live: scheduler.snapshot(),
            daemon: info,
          }),
        jobs: () => listJobs(loaded.config, clock.now(), scheduler.snapshot()),
        enqueue(job, opts) {
          const r = scheduler.request(job, opts);
          return { ...r, run: scheduler.activeRun(r.runId) ?? getRun(db, r.runId)! };
        },
        run: (id) => scheduler.activeRun(id) ?? getRun(db, id),
        watch: (id, w) => scheduler.watch(id, w),
        cancel: (id) => scheduler.cancel(id),
      },
    });
  } catch (err) {
    await cluster?.stop(0);
    db.close();
    await services.close();
    throw err;
  }

  const pruneHistory = () => {
    const { maxAge, perJob } = loaded.config.daemon.historyRetention;
    try {
      const removed = pruneRuns(db, {
        before: new Date(clock.now().getTime() - maxAge).toISOString(),
        perJob,
      });
      if (removed > 0) log.info({ removed }, 'Old runs removed from the history');
    } catch (err) {
      log.error({ err }, 'Could not prune the run history');
    }
  };
  pruneHistory();
  // Metrics are served with the HTTP page only; subscribed before start(), so the catch-up
  // runs start() queues are counted too.
  // The page's modules (prom-client, rendering) load only when it is enabled: ~20 MB otherwise.
  const web = loaded.config.daemon.http;
  const page = web.enabled ? await loadStatusPage() : undefined;
  const registry = page ? new page.Registry() : undefined;
  if (page && registry) {
    page.registerSchedulerMetrics(registry, scheduler);
    page.registerJobMetrics(registry, {
      jobs: () => loaded.config.jobs,
      lastSuccess: () => latestFinished(db, { ok: true }),
      reportBackups: () => latestReport(db)?.backups ?? [],
    });
  }
  scheduler.start();
  const housekeeping = new AbortController();
  void (async () => {
    while (!housekeeping.signal.aborted) {
      await clock.sleep(HISTORY_PRUNE_EVERY_MS, housekeeping.signal).catch(() => {});
      if (!housekeeping.signal.aborted) pruneHistory();
    }
  })();

  // The health area's page (latest report, /metrics, /healthz): a status page must never keep
  // backups from running, so failing to listen is logged and the daemon goes on without it.
  let http: HttpServer | undefined;
  if (page && registry) {
    try {
      http = await page.startHttpServer({
        listen: splitListen(web.listen),
        getReport: () => latestReport(db),
        registry,
        log,
        cluster: cluster?.panel,
      });
    } catch (err) {
      log.error(
        { listen: web.listen, error: errorMessage(err) },
        'HTTP status page not started; the daemon runs without it',
      );
    }
  }

  const jobCount = Object.keys(loaded.config.jobs).length;
  await notify({ ready: true, status: `${jobCount} jobs scheduled` });
  log.info(
    { pid: info.pid, version: info.version, config: info.configFile, jobs: jobCount, socket: info.socket },
    'Daemon started',
  );

  let stopping: Promise<void> | undefined;
  const handle: DaemonHandle = {
    info,
    config: () => loaded.config,
    services: () => services,
    db,
    scheduler,
    log,
    reload() {
      let next: LoadedConfig;
      try {
        next = reloadConfig();
      } catch (err) {
        const problems = err instanceof ConfigError ? err.problems : undefined;
        log.error(
          { file: loaded.file, problems, error: errorMessage(err) },
          'Config reload rejected; the running config stays in force',
        );
        return false;
      }
      const before = loaded.config;
      const fixed: Array<[string, unknown, unknown]> = [
        ['stateDir', before.stateDir, next.config.stateDir],
        ['daemon.socket', before.daemon.socket, next.config.daemon.socket],
        ['daemon.http', JSON.stringify(before.daemon.http), JSON.stringify(next.config.daemon.http)],
      ];
      for (const [key, was, now] of fixed) {
        if (was !== now)
          log.warn({ key }, 'Config change needs a daemon restart; the old value stays until then');
      }
      next.config.stateDir = loaded.config.stateDir;
      next.config.daemon.socket = loaded.config.daemon.socket;
      next.config.daemon.http = loaded.config.daemon.http;
      services = createServices({ config: next.config, log, clock });
      if (cluster) {
        cluster.reload(next.config, services);
        services = cluster.services(services);
      }
      scheduler.update(cluster ? { ...next.config, jobs: {} } : next.config, services);
      loaded = next;
      log.info({ file: next.file, jobs: Object.keys(next.config.jobs).length }, 'Config reloaded');
      void notify({ status: `${Object.keys(next.config.jobs).length} jobs scheduled (reloaded)` });
      return true;
    },
    stop() {
      stopping ??= (async () => {
        const graceMs = loaded.config.daemon.shutdownGrace;
        log.info({ graceMs }, 'Daemon stopping');
        // The longest stop: the grace, the wait after cancelling, and closing connections.
        const extendTimeoutMs = graceMs + CANCEL_WAIT_MS + STOP_MARGIN_MS;
        await notify({ stopping: true, status: 'stopping', extendTimeoutMs });
        housekeeping.abort();
        await cluster?.stop(loaded.config.daemon.shutdownGrace);
        await scheduler.stop(loaded.config.daemon.shutdownGrace);
        await control.close();
        await http?.close();
        await services.close();
        db.close();
        log.info('Daemon stopped');
      })();
      return stopping;
    },
  };
  return handle;
}

/** "127.0.0.1:9810" or "[::1]:9810" → host and port. */
export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) };
}

async function startCluster(o: {
  loaded: LoadedConfig;
  services: Services;
  clock: Clock;
  log: Logger;
  execute: JobExecutor | undefined;
  db: StateDb;
}) {
  // Loaded only with coordination: pg and pg-boss stay out of a single daemon's memory.
  const { startClusterNode } = await import('../cluster/node.ts');
  try {
    return await startClusterNode({
      config: o.loaded.config,
      services: o.services,
      clock: o.clock,
      log: o.log,
      execute: o.execute,
      pid: process.pid,
      version: TOOL_VERSION,
      db: o.db,
    });
  } catch (err) {
    o.db.close();
    await o.services.close();
    throw err;
  }
}

async function loadStatusPage() {
  const [{ Registry }, { startHttpServer }, { registerSchedulerMetrics }, { registerJobMetrics }] =
    await Promise.all([
      import('prom-client'),
      import('./http.ts'),
      import('./metrics.ts'),
      import('./job-metrics.ts'),
    ]);
  return { Registry, startHttpServer, registerSchedulerMetrics, registerJobMetrics };
}
