/**
 * Snapshot jobs (`kind: snapshot`): take `bo-<job>-<UTC time>` of a btrfs subvolume, LVM LV or
 * ZFS dataset on the job's host, then prune the job's snapshots by its retention. Also the
 * listing and pruning behind `bo snapshots` and `bo snapshot prune`.
 */
import type { Config, SnapshotJob, SnapshotVolume } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RetentionPolicy } from '../plan/retention.ts';
import type { Services } from '../services.ts';
import { btrfsDuSizes } from '../snapshots/btrfs.ts';
import { snapshotName } from '../snapshots/names.ts';
import type { SnapshotInfo } from '../snapshots/provider.ts';
import {
  planLeftoverPrune,
  planSnapshotPrune,
  retentionPolicy,
  type SnapshotPruneRow,
} from '../snapshots/prune-plan.ts';
import { snapshotProvider } from '../snapshots/registry.ts';
import { withHooks } from './hooks.ts';
import { jobLockHolder } from './job-lock-holder.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';

/** LVM snapshots fuller than this are reported: at 100% they are invalidated. */
export const COW_WARN_PERCENT = 80;

export function volumeOf(job: SnapshotJob): SnapshotVolume {
  return {
    provider: job.provider,
    volume: job.volume,
    snapshotDir: job.snapshotDir,
    size: job.size,
    mountPoint: job.mountPoint,
  };
}

export async function runSnapshotJob(
  name: string,
  job: SnapshotJob,
  ctx: JobRunContext,
): Promise<JobRunResult> {
  const host = ctx.services.host(job.host);
  const log = ctx.log.child({ job: name, host: job.host });
  const env = { BO_JOB: name, BO_HOST: job.host, BO_RUN_ID: ctx.runId, BO_KIND: 'snapshot' };
  return withHooks(job, { host, env, log, signal: ctx.signal }, async (hooks) => {
    const vol = volumeOf(job);
    const provider = snapshotProvider(vol.provider);
    ctx.onProgress?.({ phase: 'snapshot', bytes: 0, files: 0 });
    const snap = await provider.create(host, vol, snapshotName(name, ctx.services.clock.now()), {
      signal: ctx.signal,
    });
    log.info({ snapshot: snap.ref }, 'Snapshot created');
    for (const warning of snap.warnings ?? [])
      log.warn({ snapshot: snap.ref, warning }, 'Snapshot may not be one point in time');
    await hooks.snapshotTaken({ BO_SNAPSHOT: snap.ref });
    const target: SnapshotTarget = {
      job: name,
      kind: 'snapshot',
      host: job.host,
      vol,
      policy: retentionPolicy(job.retention, job.timezone),
    };
    const report = await pruneTarget(ctx.services, target, {
      dryRun: false,
      signal: ctx.signal,
      log,
      now: ctx.services.clock.now(),
    });
    for (const r of report.rows) {
      if (r.action === 'keep' && (r.snapshot.usedPercent ?? 0) >= COW_WARN_PERCENT) {
        log.warn(
          { snapshot: r.snapshot.ref, usedPercent: r.snapshot.usedPercent },
          'Snapshot CoW space nearly full',
        );
      }
    }
    if (report.failed.length > 0)
      throw new BoError(
        `${name}: snapshot ${snap.ref} created, but pruning failed: ${report.failed.join('; ')}`,
      );
    const deleted = report.rows.filter((r) => r.action === 'delete').length;
    const kept = report.rows.length - deleted;
    return { summary: `${name}: snapshot ${snap.ref} created; ${deleted} pruned, ${kept} kept` };
  });
}

/** A job whose snapshots bo manages: a snapshot job, or a backup job with `snapshot:` (leftovers only). */
export interface SnapshotTarget {
  job: string;
  kind: 'snapshot' | 'backup';
  host: string;
  vol: SnapshotVolume;
  policy: RetentionPolicy | undefined;
  /** Backup jobs: the storage holding the job's lock. */
  storage?: string | undefined;
}

export function snapshotTargets(
  config: Config,
  filter: { host?: string | undefined; jobs?: string[] | undefined } = {},
): SnapshotTarget[] {
  const out: SnapshotTarget[] = [];
  for (const [name, job] of Object.entries(config.jobs)) {
    if (filter.jobs?.length && !filter.jobs.includes(name)) continue;
    if (job.kind === 'snapshot') {
      if (filter.host && job.host !== filter.host) continue;
      out.push({
        job: name,
        kind: 'snapshot',
        host: job.host,
        vol: volumeOf(job),
        policy: retentionPolicy(job.retention, job.timezone),
      });
    } else if (job.kind === 'backup' && job.snapshot && (!filter.host || job.host === filter.host)) {
      out.push({
        job: name,
        kind: 'backup',
        host: job.host,
        vol: job.snapshot,
        policy: undefined,
        storage: job.storage,
      });
    }
  }
  return out;
}

export interface TargetListing {
  target: SnapshotTarget;
  snapshots: SnapshotInfo[];
  error?: string;
}

/**
 * The target's own snapshots (by name); a host that fails is reported, the others still listed.
 * `du`: btrfs sizes without quotas from `btrfs filesystem du` (reads every file).
 */
export async function listTargets(
  services: Services,
  targets: SnapshotTarget[],
  signal: AbortSignal,
  opts: { du?: boolean | undefined } = {},
): Promise<TargetListing[]> {
  const out: TargetListing[] = [];
  for (const target of targets) {
    try {
      const host = services.host(target.host);
      const all = await snapshotProvider(target.vol.provider).list(host, target.vol, { signal });
      const mine = all.filter((s) => s.job === target.job);
      const sized =
        opts.du && target.vol.provider === 'btrfs'
          ? await btrfsDuSizes(host, target.vol, mine, signal)
          : mine;
      out.push({ target, snapshots: sized });
    } catch (err) {
      if (signal.aborted) throw err;
      out.push({ target, snapshots: [], error: errorMessage(err) });
    }
  }
  return out;
}

export interface PruneReport {
  target: SnapshotTarget;
  rows: SnapshotPruneRow[];
  /** Deletions that failed (and listing errors). */
  failed: string[];
}

/** Plans and (unless dryRun) carries out the prune of one target; deletes exactly the planned rows. */
export async function pruneTarget(
  services: Services,
  target: SnapshotTarget,
  o: { dryRun: boolean; signal: AbortSignal; log: Logger; now: Date },
): Promise<PruneReport> {
  const host = services.host(target.host);
  const provider = snapshotProvider(target.vol.provider);
  const mine = (await provider.list(host, target.vol, { signal: o.signal })).filter(
    (s) => s.job === target.job,
  );
  const holder =
    target.kind === 'backup' && target.storage && mine.some((s) => s.marker)
      ? await jobLockHolder(services.storage(target.storage), target.job, o.now, o.signal)
      : undefined;
  const rows =
    target.kind === 'snapshot'
      ? planSnapshotPrune(mine, target.policy, o.now)
      : planLeftoverPrune(mine, o.now, undefined, holder);
  const failed: string[] = [];
  if (o.dryRun) return { target, rows, failed };
  for (const r of rows.filter((x) => x.action === 'delete')) {
    try {
      await provider.release(host, target.vol, r.snapshot, { signal: o.signal });
      await provider.delete(host, target.vol, r.snapshot, { signal: o.signal });
      o.log.info({ snapshot: r.snapshot.ref, reasons: r.reasons }, 'Snapshot pruned');
    } catch (err) {
      if (o.signal.aborted) throw err;
      failed.push(`${r.snapshot.ref}: ${errorMessage(err)}`);
    }
  }
  return { target, rows, failed };
}
