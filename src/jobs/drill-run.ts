/**
 * `bo drill` and the drill job kind: the latest backup of each job (or a given one) goes
 * through drill.ts; every outcome is recorded, a success as the job's "last proven restorable".
 */
import { join } from 'node:path';
import type { AgeIdentity } from '../archive/age/index.ts';
import { parseIdentities } from '../archive/age/index.ts';
import { recordCheck, withStateDb } from '../catalog/checks.ts';
import { resolveBackup } from '../catalog/resolve.ts';
import type { DrillJob } from '../config/schema.ts';
import { BoError, errorMessage, UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import { type DrillOutcome, type DrillTarget, drillBackup } from './drill.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';
import { backupJobTargets } from './targets.ts';

export interface DrillRunOptions {
  /** Local parent directory of the scratch copy (default <stateDir>/drill), or HOST:/dir. */
  to?: string | undefined;
  toHost?: string | undefined;
  /** Backup id; default the latest of each job. */
  backup?: string | undefined;
  /** The storage to drill (one of the job's copies); default the job's own. */
  from?: string | undefined;
  sample?: number | undefined;
  identities?: AgeIdentity[] | undefined;
  signal: AbortSignal;
  log: Logger;
  onResult?: (o: DrillOutcome) => void;
}

export function drillTarget(
  services: Services,
  opts: { to?: string | undefined; toHost?: string | undefined },
): DrillTarget {
  if (opts.to && opts.toHost) throw new UsageError('give at most one of --to DIR and --to-host HOST:DIR');
  if (opts.toHost) {
    const m = /^([^:]+):(\/.*)$/.exec(opts.toHost);
    if (!m) throw new UsageError(`--to-host wants HOST:/absolute/dir, got "${opts.toHost}"`);
    if (!(m[1]! in services.config.hosts) && m[1] !== 'local')
      throw new UsageError(`unknown host "${m[1]}" in --to-host`);
    return { kind: 'host', host: services.host(m[1]!), parent: m[2]! };
  }
  return { kind: 'local', parent: opts.to ?? join(services.config.stateDir, 'drill') };
}

export async function drillJobs(
  services: Services,
  jobs: readonly string[],
  opts: DrillRunOptions,
): Promise<DrillOutcome[]> {
  const target = drillTarget(services, opts);
  return await withStateDb(services.config, opts.log, async (db) => {
    const out: DrillOutcome[] = [];
    for (const job of backupJobTargets(services, jobs)) {
      opts.signal.throwIfAborted();
      const startedAt = new Date();
      let o: DrillOutcome;
      try {
        const only = opts.from ? [opts.from] : undefined;
        const { storage, ref } = await resolveBackup(services, job, opts.backup, opts.signal, only);
        o = await drillBackup(storage, ref, { ...opts, target });
      } catch (err) {
        if (opts.signal.aborted) throw err;
        const storage = opts.from ?? (services.config.jobs[job] as { storage: string }).storage;
        o = {
          storage,
          job,
          id: opts.backup ?? 'latest',
          target: '-',
          status: 'failed',
          files: 0,
          bytes: 0,
          sampled: false,
          durationMs: Date.now() - startedAt.getTime(),
          problems: [errorMessage(err)],
          removed: true,
        };
      }
      // Also a drill that failed before it started (no backups, storage down): health must not
      // keep showing the last success as if nothing happened since.
      if (db) {
        recordCheck(db, {
          kind: 'drill',
          storage: o.storage,
          job: o.job,
          backupId: o.id,
          startedAt: startedAt.toISOString(),
          finishedAt: new Date(startedAt.getTime() + o.durationMs).toISOString(),
          durationMs: o.durationMs,
          outcome: o.status,
          depth: o.sampled ? 'sample' : 'all',
          files: o.files,
          bytes: o.bytes,
          target: o.target,
          detail: o.problems.join('\n') || undefined,
        });
      }
      out.push(o);
      opts.onResult?.(o);
    }
    return out;
  });
}

/** The drill job kind, as the daemon runs it. */
export async function runDrill(name: string, job: DrillJob, ctx: JobRunContext): Promise<JobRunResult> {
  const outcomes = await drillJobs(ctx.services, job.jobs ?? [], {
    to: job.to,
    toHost: job.toHost,
    sample: job.sample,
    identities: job.identity ? parseIdentities(job.identity.reveal()) : undefined,
    signal: ctx.signal,
    log: ctx.log,
  });
  return drillResult(name, outcomes);
}

/** A drill run's result as the run history records it; throws when any drill failed. */
export function drillResult(name: string, outcomes: readonly DrillOutcome[]): JobRunResult {
  const failed = outcomes.filter((o) => o.status === 'failed');
  const summary = `${name}: ${outcomes.length - failed.length} of ${outcomes.length} job(s) proven restorable`;
  if (failed.length > 0) {
    throw new BoError(
      `${summary}; FAILED: ${failed.map((o) => `${o.job}/${o.id}: ${o.problems[0]}`).join(' | ')}`,
    );
  }
  return {
    summary,
    files: outcomes.reduce((n, o) => n + o.files, 0),
    bytes: outcomes.reduce((n, o) => n + o.bytes, 0),
  };
}
