import type { Command } from 'commander';
import type { RunRecord } from '../../catalog/runs.ts';
import { UsageError } from '../../errors.ts';
import { runDurationMs } from '../../jobs/run-recorded.ts';
import type { CliContext } from '../context.ts';
import { runJobsNow, runJson } from './run-jobs.ts';

/**
 * `bo run JOB...`: any configured job (backup, prune, verify, drill, snapshot, health) now, with
 * its configured options. Through the daemon when one runs (joining a run already queued or
 * running, as `bo backup now` does), else here, recorded in the same run history.
 */
export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('Run configured jobs of any kind now, as the daemon would, and wait for them')
    .argument('<jobs...>', 'job names from the config')
    .option('--json', 'print the outcome as JSON')
    .option('-d, --detach', 'with a running daemon: queue the jobs and return at once')
    .addHelpText(
      'after',
      `
The job runs exactly as scheduled runs do (its configured targets, sample, identity, garbageAge
…) and is recorded as a manual run, so \`bo status\` shows it. With a daemon running the run is
queued there and followed (Ctrl-C stops following and cancels a run this command started);
without one it runs here. One failing job does not stop the others; exit code 1 if any failed.
\`bo prune\`, \`bo verify\` and \`bo drill\` take their options from the command line instead.

Examples:
  bo run weekly-verify
  bo run nightly-prune monthly-drill --json`,
    )
    .action(async (jobs: string[], opts: { json?: boolean; detach?: boolean }) => {
      const { config } = ctx.config();
      for (const j of jobs) {
        if (!config.jobs[j])
          throw new UsageError(`unknown job "${j}"`, {
            hint: `jobs: ${Object.keys(config.jobs).join(', ')}`,
          });
      }
      const outcomes = await runJobsNow(jobs, opts, ctx, (o) => ctx.out.print(line(o)));
      if (!outcomes) return;
      if (opts.json) ctx.out.json({ jobs: outcomes.map(runJson) });
    });
}

function line(o: RunRecord): string {
  const secs = `${(runDurationMs(o) / 1000).toFixed(1)}s`;
  if (o.outcome === 'ok') return `ok      ${o.job} (${o.kind})  ${o.summary ?? ''}  ${secs}`;
  return `${o.outcome?.padEnd(7)} ${o.job} (${o.kind})  ${o.error}${o.hint ? `\n        hint: ${o.hint}` : ''}`;
}
