import type { Command } from 'commander';
import type { RunRecord } from '../../catalog/runs.ts';
import { UsageError } from '../../errors.ts';
import { runDurationMs } from '../../jobs/run-recorded.ts';
import { formatSizes } from '../../sizes.ts';
import type { CliContext } from '../context.ts';
import { runJobsNow, runJson } from './run-jobs.ts';

export function registerBackup(program: Command, ctx: CliContext): void {
  const backup = program
    .command('backup')
    .description('Back up now (the daemon runs the same jobs on schedule)');
  backup
    .command('now')
    .description('Run backup jobs now and wait for them')
    .argument('[jobs...]', 'backup job names from the config')
    .option('-a, --all', 'every backup job in the config')
    .option('--json', 'print the outcome as JSON')
    .option('-d, --detach', 'with a running daemon: queue the jobs and return at once')
    .option('--full', 'make a full backup that starts a new chain, not an incremental')
    .addHelpText(
      'after',
      `
Each job streams tar from its host into its storage, indexes and hashes every file, and writes
the manifest last: a run that fails or is cancelled (Ctrl-C) leaves no backup behind.
Backups are incremental unless the job says \`incremental: false\`: each run archives only what
changed since the job's previous backup; a full starts a new chain (the first backup, every
\`fullEvery\`, --full, or when the previous one cannot serve as a parent: the result says why).
One failing job does not stop the others; the exit code is 1 if any failed.
With a daemon running (\`bo daemon\`), the jobs are queued there and followed; a job that is
already queued or running is joined, never started twice. Without one they run here.

Examples:
  bo backup now files1-share
  bo backup now files1-share --full
  bo backup now --all --json`,
    )
    .action(
      async (jobs: string[], opts: { all?: boolean; json?: boolean; detach?: boolean; full?: boolean }) => {
        const { config } = ctx.config();
        const backupJobs = Object.entries(config.jobs)
          .filter(([, j]) => j.kind === 'backup')
          .map(([n]) => n);
        if (opts.all) jobs = backupJobs;
        if (jobs.length === 0)
          throw new UsageError('name at least one job, or pass --all', {
            hint: `jobs: ${backupJobs.join(', ') || 'none configured'}`,
          });
        for (const j of jobs) {
          if (!config.jobs[j])
            throw new UsageError(`unknown job "${j}"`, { hint: `backup jobs: ${backupJobs.join(', ')}` });
          if (config.jobs[j].kind !== 'backup')
            throw new UsageError(`job "${j}" is a ${config.jobs[j].kind} job, not a backup`);
        }
        const outcomes = await runJobsNow(jobs, opts, ctx, (o) => ctx.out.print(line(o)));
        if (!outcomes) return;
        if (opts.json) ctx.out.json({ jobs: outcomes.map(runJson) });
        else ctx.out.print(summary(outcomes));
      },
    );
}

function line(o: RunRecord): string {
  const secs = (runDurationMs(o) / 1000).toFixed(1);
  if (o.outcome === 'ok') {
    const sizes = formatSizes({ sourceBytes: o.bytes ?? 0, storedBytes: o.storedBytes });
    return `ok      ${o.job}  ${o.backupId}  ${o.files ?? 0} files, ${sizes}, ${secs}s${o.note ? `  (${o.note})` : ''}`;
  }
  return `${o.outcome?.padEnd(7)} ${o.job}  ${o.error}${
    o.hint
      ? `
        hint: ${o.hint}`
      : ''
  }`;
}

function summary(outcomes: RunRecord[]): string {
  const ok = outcomes.filter((o) => o.outcome === 'ok').length;
  const failed = outcomes.length - ok;
  return failed === 0 ? `${ok} backup(s) completed` : `${ok} completed, ${failed} did not: see above`;
}
