import type { Command } from 'commander';
import { EXIT, UsageError } from '../../errors.ts';
import { listTargets, type PruneReport, pruneTarget, snapshotTargets } from '../../jobs/snapshot.ts';
import type { SnapshotInfo } from '../../snapshots/provider.ts';
import type { CliContext } from '../context.ts';
import { formatAge, formatBytes, table } from '../format.ts';
import { registerSnapshotNow } from './snapshot-now.ts';

/** `bo snapshots [HOST]`, `bo snapshot now JOB`, `bo snapshot prune [JOB...]`. */
export function registerSnapshot(program: Command, ctx: CliContext): void {
  program
    .command('snapshots')
    .description(
      "List bo's snapshots (of snapshot jobs, and leftovers of consistent backups) with age and size",
    )
    .argument('[host]', 'only this host')
    .option('--json', 'print JSON')
    .option('--du', 'btrfs without quotas: measure sizes with `btrfs filesystem du` (reads every file)')
    .addHelpText(
      'after',
      `
Only snapshots named bo-<job>-<UTC time> of configured jobs' volumes are listed; bo never
touches other snapshots. SIZE is what a snapshot holds on its own (freed by deleting it): LVM's
copy-on-write space, with how full it is (at 100% the snapshot is invalidated); ZFS's "used";
btrfs's exclusive bytes, known only with quotas enabled (btrfs quota enable VOLUME), else "-"
unless --du measures them. --json gives the time, age in seconds and size in bytes (null when
unknown).

Examples:
  bo snapshots
  bo snapshots files1 --json
  bo snapshots --du`,
    )
    .action(async (host: string | undefined, opts: { json?: boolean; du?: boolean }) => {
      const services = ctx.services();
      if (host && host !== 'local' && !(host in services.config.hosts))
        throw new UsageError(`unknown host "${host}"`);
      const listings = await listTargets(services, snapshotTargets(services.config, { host }), ctx.signal, {
        du: opts.du,
      });
      const now = ctx.clock.now();
      if (opts.json) {
        ctx.out.json({
          snapshots: listings.flatMap((l) =>
            l.snapshots.map((s) => ({
              host: l.target.host,
              kind: l.target.kind,
              ...jsonSnapshot(s),
              ageSeconds: Math.max(0, Math.floor((now.getTime() - s.time.getTime()) / 1000)),
            })),
          ),
          errors: listings
            .filter((l) => l.error)
            .map((l) => ({ job: l.target.job, host: l.target.host, error: l.error })),
        });
      } else {
        const rows = listings.flatMap((l) =>
          l.snapshots.map((s) => [
            l.target.host,
            s.job,
            s.provider,
            s.ref,
            formatAge(s.time, now),
            sizeText(s),
            state(s, l.target.kind),
          ]),
        );
        ctx.out.print(
          rows.length
            ? table(rows, ['HOST', 'JOB', 'PROVIDER', 'SNAPSHOT', 'AGE', 'SIZE', 'STATE'])
            : 'no snapshots',
        );
        for (const l of listings)
          if (l.error) ctx.out.note(`error   ${l.target.job} on ${l.target.host}: ${l.error}`);
      }
      if (listings.some((l) => l.error)) ctx.setExit(EXIT.jobFailed);
    });

  const snapshot = program
    .command('snapshot')
    .description('Take or prune snapshots (snapshot jobs run on schedule in the daemon)');
  registerSnapshotNow(snapshot, ctx);

  snapshot
    .command('prune')
    .description(
      "Delete snapshots by each snapshot job's retention, and leftovers of interrupted backup runs",
    )
    .argument('[jobs...]', 'only these jobs (default: every job with snapshots)')
    .option('-n, --dry-run', 'show the plan, delete nothing')
    .option('--json', 'print the plan and outcome as JSON')
    .addHelpText(
      'after',
      `
A snapshot job's snapshots are kept by its retention (the newest always stays); without
retention none are deleted. A consistent backup's snapshots are its runs' short-lived ones: a
marked leftover more than 24 h old is deleted, unless the job's storage lock is held (a run of
it may still read the snapshot). Invalid LVM snapshots (CoW space full) are always deleted.

Examples:
  bo snapshot prune --dry-run
  bo snapshot prune data-snap
  bo snapshot prune --json`,
    )
    .action(async (jobs: string[], opts: { dryRun?: boolean; json?: boolean }) => {
      const services = ctx.services();
      const managed = snapshotTargets(services.config).map((t) => t.job);
      for (const j of jobs) {
        const job = services.config.jobs[j];
        if (!job) throw new UsageError(`unknown job "${j}"`);
        if (!managed.includes(j)) {
          throw new UsageError(
            `job "${j}" has no snapshots to manage: it is a ${job.kind} job${job.kind === 'backup' ? ' without snapshot:' : ''}`,
            { hint: `jobs with snapshots: ${managed.join(', ') || 'none configured'}` },
          );
        }
      }
      const reports: Array<PruneReport | { target: PruneReport['target']; error: string }> = [];
      for (const target of snapshotTargets(services.config, { jobs })) {
        try {
          reports.push(
            await pruneTarget(services, target, {
              dryRun: opts.dryRun ?? false,
              signal: ctx.signal,
              log: ctx.log,
              now: ctx.clock.now(),
            }),
          );
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          reports.push({ target, error: (err as Error).message });
        }
      }
      const failed = reports.some((r) => 'error' in r || r.failed.length > 0);
      if (opts.json) {
        ctx.out.json({
          dryRun: opts.dryRun ?? false,
          jobs: reports.map((r) =>
            'error' in r
              ? { job: r.target.job, host: r.target.host, error: r.error }
              : {
                  job: r.target.job,
                  host: r.target.host,
                  snapshots: r.rows.map((x) => ({
                    ...jsonSnapshot(x.snapshot),
                    action: x.action,
                    reasons: x.reasons,
                  })),
                  failed: r.failed,
                },
          ),
        });
      } else {
        const rows = reports.flatMap((r) =>
          'error' in r
            ? []
            : r.rows.map((x) => [r.target.job, x.snapshot.ref, x.action, x.reasons.join(', ')]),
        );
        ctx.out.print(rows.length ? table(rows, ['JOB', 'SNAPSHOT', 'ACTION', 'WHY']) : 'no snapshots');
        const deleted = rows.filter((r) => r[2] === 'delete').length;
        ctx.out.print(
          opts.dryRun ? `dry run: ${deleted} snapshot(s) would be deleted` : `${deleted} snapshot(s) deleted`,
        );
        for (const r of reports) {
          if ('error' in r) ctx.out.note(`error   ${r.target.job} on ${r.target.host}: ${r.error}`);
          else for (const f of r.failed) ctx.out.note(`error   ${r.target.job}: ${f}`);
        }
      }
      if (failed) ctx.setExit(EXIT.jobFailed);
    });
}

function jsonSnapshot(s: SnapshotInfo) {
  return {
    job: s.job,
    provider: s.provider,
    volume: s.volume,
    name: s.name,
    ref: s.ref,
    time: s.time.toISOString(),
    size: s.size ?? null,
    usedPercent: s.usedPercent ?? null,
    invalid: s.invalid ?? false,
    leftover: s.marker !== undefined,
  };
}

function sizeText(s: SnapshotInfo): string {
  const size = s.size === undefined ? '-' : formatBytes(s.size);
  return s.usedPercent === undefined ? size : `${size} (${s.usedPercent.toFixed(0)}% used)`;
}

function state(s: SnapshotInfo, kind: 'snapshot' | 'backup'): string {
  if (s.invalid) return 'INVALID (CoW space full)';
  if (s.marker) return kind === 'backup' ? 'leftover of an interrupted backup run' : 'marked';
  return 'ok';
}
