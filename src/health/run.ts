import type { Clock } from '../clock.ts';
import type { CheckName, Config } from '../config/schema.ts';
import { errorMessage, throwIfAborted } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Host } from '../remote/host.ts';
import type { Storage } from '../storage/storage.ts';
import { type BackupStatus, collectBackupStatus } from './backups.ts';
import type { Sample } from './check.ts';
import { backupFreshnessCheck } from './checks/backup-freshness.ts';
import { snapshotFreshnessCheck } from './checks/snapshot-freshness.ts';
import { checkHost, type HostHealth } from './host-run.ts';
import type { HealthPlan } from './plan.ts';
import type { ProofReader } from './proofs.ts';
import { type RunProblem, runProblems } from './runs.ts';
import { type RunHistoryView, type SnapshotStatus, snapshotStatuses } from './snapshots.ts';
import { type CheckResult, compareResults } from './types.ts';

/** Earlier results, for checks that read trends (the disk forecast). */
export interface HistoryReader {
  /** Samples of `check` on `host` newer than `sinceMs`, per subject, oldest first. */
  samples(host: string, check: CheckName, sinceMs: number): Map<string, Sample[]>;
}

export interface HealthRunDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  signal: AbortSignal;
  /** The host's connection, reused for the whole run (services.host). */
  host(name: string): Host;
  storage(name: string): Storage;
  history?: HistoryReader | undefined;
  /** Verify and drill records for the backup section. */
  proofs?: ProofReader | undefined;
  /** The run history, for snapshot freshness and failed runs; without it those checks are unknown. */
  runs?: (() => RunHistoryView) | undefined;
}

/** One health run over the fleet. */
export interface HealthRun {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Worst host first; within a host, worst result first. */
  hosts: HostHealth[];
  backups: BackupStatus[];
  snapshots: SnapshotStatus[];
  /** Jobs whose newest run did not succeed (needs the run history). */
  runs: RunProblem[];
}

/**
 * Runs a plan: hosts concurrently up to `health.concurrency`, each bounded by `hostTimeout`,
 * while the backup manifests are listed. A dead host costs its own timeout and nothing else.
 */
export async function runHealth(plan: HealthPlan, deps: HealthRunDeps): Promise<HealthRun> {
  const started = deps.clock.now();
  const t0 = Date.now();
  const { health } = deps.config;
  const backupsP = collectBackupStatus(
    deps.config,
    plan.backups.map((b) => b.job),
    { storage: deps.storage, log: deps.log, signal: deps.signal, proofs: deps.proofs, now: started },
  );
  const hosts: HostHealth[] = new Array(plan.hosts.length);
  let next = 0;
  const worker = async () => {
    while (next < plan.hosts.length) {
      throwIfAborted(deps.signal);
      const i = next++;
      const hp = plan.hosts[i]!;
      const cache = new Map<CheckName, Map<string, Sample[]>>();
      hosts[i] = await checkHost(hp, {
        host: deps.host(hp.host),
        log: deps.log,
        signal: deps.signal,
        now: () => deps.clock.now(),
        timeoutMs: health.hostTimeout,
        history: (check, subject) => {
          if (!deps.history) return [];
          let bySubject = cache.get(check);
          if (!bySubject) {
            bySubject = deps.history.samples(hp.host, check, deps.clock.now().getTime() - 7 * 86_400_000);
            cache.set(check, bySubject);
          }
          return bySubject.get(subject) ?? [];
        },
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(health.concurrency, plan.hosts.length) }, worker));
  const backups = await backupsP;
  const history = readRuns(deps);
  const snapshots = snapshotStatuses(
    deps.config,
    plan.snapshots.map((s) => s.job),
    history,
  );
  addFleetResults(hosts, fleetResults(plan, backups, snapshots, deps), deps.config);
  for (const h of hosts) h.results.sort(compareResults);
  hosts.sort(
    (a, b) =>
      compareResults(a.results[0] ?? okOf(a), b.results[0] ?? okOf(b)) || a.host.localeCompare(b.host),
  );
  const finished = deps.clock.now();
  return {
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: Date.now() - t0,
    hosts,
    backups,
    snapshots,
    runs: runProblems(deps.config, plan.runs, history),
  };
}

function readRuns(deps: HealthRunDeps): RunHistoryView | undefined {
  try {
    return deps.runs?.();
  } catch (err) {
    deps.log.warn({ error: errorMessage(err) }, 'Cannot read the run history for the health report');
    return undefined;
  }
}

/** backup-freshness and snapshot-freshness results, one per job in the plan. */
function fleetResults(
  plan: HealthPlan,
  backups: BackupStatus[],
  snapshots: SnapshotStatus[],
  deps: HealthRunDeps,
): CheckResult[] {
  const ctx = { config: deps.config, now: deps.clock.now(), backups, snapshots };
  const out: CheckResult[] = [];
  for (const b of backups) {
    const spec = plan.backups.find((p) => p.job === b.job)!.spec;
    if (spec) out.push(...backupFreshnessCheck.evaluate(spec, { ...ctx, backups: [b] }));
  }
  for (const s of snapshots) {
    const spec = plan.snapshots.find((p) => p.job === s.job)!.spec;
    out.push(...snapshotFreshnessCheck.evaluate(spec, { ...ctx, snapshots: [s] }));
  }
  return out;
}

/** Fleet results join their job's host section ("local" gets one if needed). */
function addFleetResults(hosts: HostHealth[], results: CheckResult[], config: Config): void {
  for (const r of results) {
    let h = hosts.find((x) => x.host === r.host);
    if (!h) {
      h = {
        host: r.host,
        address: config.hosts[r.host]?.address ?? '127.0.0.1',
        roles: config.hosts[r.host]?.roles ?? [],
        reachable: true,
        durationMs: 0,
        results: [],
      };
      hosts.push(h);
    }
    h.results.push(r);
  }
}

function okOf(h: HostHealth): CheckResult {
  return { host: h.host, check: '', subject: '', status: 'ok', message: '' };
}

/** Every result of a run, worst first. */
export function allResults(run: HealthRun): CheckResult[] {
  return run.hosts.flatMap((h) => h.results).sort(compareResults);
}
