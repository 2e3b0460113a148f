import type { Command } from 'commander';
import type { RunRecord } from '../../catalog/runs.ts';
import { UsageError } from '../../errors.ts';
import type { CliContext } from '../context.ts';
import { runJobsNow, runJson } from './run-jobs.ts';

/**
 * `bo snapshot now JOB...`: like `bo backup now`, through a running daemon (joining a run already
 * queued or running) or here, recorded in the run history either way, so `bo status` shows it.
 */
export function registerSnapshotNow(snapshot: Command, ctx: CliContext): void {
  snapshot
    .command('now')
    .description('Run snapshot jobs now: take a snapshot, then prune by the job’s retention')
    .argument('<jobs...>', 'snapshot job names')
    .option('--json', 'print the outcome as JSON')
    .option('-d, --detach', 'with a running daemon: queue the jobs and return at once')
    .addHelpText(
      'after',
      `
Each job takes a snapshot named bo-<job>-<UTC time> on its host, runs its afterSnapshot hooks,
then deletes the job's snapshots its retention no longer keeps. With a daemon running
(\`bo daemon\`), the jobs are queued there and followed; without one they run here. Either way
the run is recorded, so \`bo status\` shows it. Exit code 1 if any job failed.

Examples:
  bo snapshot now data-snap
  bo snapshot now data-snap mail-snap --json`,
    )
    .action(async (jobs: string[], opts: { json?: boolean; detach?: boolean }) => {
      const { config } = ctx.config();
      for (const j of jobs) {
        const job = config.jobs[j];
        if (!job) throw new UsageError(`unknown job "${j}"`);
        if (job.kind !== 'snapshot')
          throw new UsageError(`job "${j}" is a ${job.kind} job, not a snapshot job`);
      }
      const outcomes = await runJobsNow(jobs, opts, ctx, (o) => ctx.out.print(line(o)));
      if (!outcomes) return;
      if (opts.json) ctx.out.json({ jobs: outcomes.map(runJson) });
    });
}

function line(o: RunRecord): string {
  if (o.outcome === 'ok') return `ok      ${o.summary}`;
  return `${o.outcome?.padEnd(7)} ${o.job}: ${o.error}${o.hint ? `\n        hint: ${o.hint}` : ''}`;
}
