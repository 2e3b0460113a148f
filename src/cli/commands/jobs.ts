import type { Command } from 'commander';
import { connectDaemon } from '../../daemon/client.ts';
import { listJobs } from '../../daemon/status.ts';
import type { CliContext } from '../context.ts';
import { table } from '../format.ts';
import { formatDuration, formatIn, trimLines } from './status.ts';

export function registerJobs(program: Command, ctx: CliContext): void {
  program
    .command('jobs')
    .description('List configured jobs with their schedules and next run times')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Next run times come from the running daemon (jitter included) when there is one.

Examples:
  bo jobs
  bo jobs --json`,
    )
    .action(async (opts: { json?: boolean }) => {
      const { config } = ctx.config();
      const daemon = await connectDaemon(config, { signal: ctx.signal });
      const now = ctx.clock.now();
      const jobs = daemon ? await daemon.jobs() : listJobs(config, now);
      if (opts.json) return ctx.out.json({ source: daemon ? 'daemon' : 'config', jobs });
      if (jobs.length === 0) return ctx.out.print('no jobs configured');
      const rows = jobs.map((j) => [
        j.job,
        j.kind,
        j.host ?? '-',
        j.schedule ? `${j.schedule}${j.timezone ? ` (${j.timezone})` : ''}` : 'on demand',
        !j.enabled
          ? 'disabled'
          : j.nextRunAt
            ? `${j.nextRunAt.replace('T', ' ').slice(0, 19)}Z (${formatIn(j.nextRunAt, now)})`
            : '-',
        [
          j.retries ? `retries ${j.retries}` : '',
          j.jitterMs ? `jitter ${formatDuration(j.jitterMs)}` : '',
          j.catchUp ? '' : 'no catch-up',
        ]
          .filter(Boolean)
          .join(', '),
      ]);
      ctx.out.print(trimLines(table(rows, ['JOB', 'KIND', 'HOST', 'SCHEDULE', 'NEXT RUN', ''])));
    });
}
