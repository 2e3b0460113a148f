import type { Clock } from '../clock.ts';
import type { CheckName, Config } from '../config/schema.ts';
import { throwIfAborted } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Host } from '../remote/host.ts';
import type { Storage } from '../storage/storage.ts';
import { type BackupStatus, collectBackupStatus } from './backups.ts';
import type { Sample } from './check.ts';
import { checkHost, type HostHealth } from './host-run.ts';
import type { HealthPlan } from './plan.ts';
import type { ProofReader } from './proofs.ts';
import { checkFor } from './registry.ts';
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
}

/** One health run over the fleet. */
export interface HealthRun {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Worst host first; within a host, worst result first. */
  hosts: HostHealth[];
  backups: BackupStatus[];
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
    { storage: deps.storage, log: deps.log, signal: deps.signal, proofs: deps.proofs },
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
  addBackupResults(hosts, plan, backups, deps);
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
  };
}

/** backup-freshness results join their job's host section ("local" gets one if needed). */
function addBackupResults(
  hosts: HostHealth[],
  plan: HealthPlan,
  backups: BackupStatus[],
  deps: HealthRunDeps,
): void {
  const now = deps.clock.now();
  for (const b of backups) {
    const spec = plan.backups.find((p) => p.job === b.job)!.spec;
    const freshness = checkFor('backup-freshness');
    if (freshness.type !== 'fleet') continue;
    const [r] = freshness.evaluate(spec, { config: deps.config, now, backups: [b] });
    if (!r) continue;
    let h = hosts.find((x) => x.host === r.host);
    if (!h) {
      h = {
        host: r.host,
        address: deps.config.hosts[r.host]?.address ?? '127.0.0.1',
        roles: deps.config.hosts[r.host]?.roles ?? [],
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
