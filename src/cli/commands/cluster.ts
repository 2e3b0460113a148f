import type { Command } from 'commander';
import { openStateDbReadOnly } from '../../catalog/db-read.ts';
import { UsageError } from '../../errors.ts';
import type { CliContext } from '../context.ts';

export function registerCluster(program: Command, ctx: CliContext): void {
  const cluster = program
    .command('cluster')
    .description('Several daemons as one cluster on PostgreSQL (coordination: in the config)');
  cluster
    .command('migrate')
    .description("Copy this machine's run history and incremental-chain state into the cluster's database")
    .option('--state-dir <dir>', 'the single daemon’s stateDir (default: the config’s)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Run it once on the machine whose daemon ran alone so far, with that daemon stopped
(systemctl stop bo) and the cluster config (with coordination:) in place; then start the
daemons. Finished runs, when each job
was first seen and every backup job's incremental state are copied; running it again copies
nothing twice.

Examples:
  bo cluster migrate
  bo cluster migrate --state-dir /var/lib/bo --json`,
    )
    .action(async (opts: { stateDir?: string; json?: boolean }) => {
      const { config } = ctx.config();
      if (!config.coordination)
        throw new UsageError('the config has no coordination: section', {
          hint: 'add coordination: { type: postgres, url: { env: BO_PG_URL } } first',
        });
      const stateDir = opts.stateDir ?? config.stateDir;
      const db = openStateDbReadOnly(stateDir);
      if (!db) throw new UsageError(`no state database in ${stateDir}`);
      const { migrateToCluster } = await import('../../cluster/migrate.ts');
      try {
        const r = await migrateToCluster({ ...config, stateDir }, db);
        if (opts.json) return ctx.out.json(r);
        ctx.out.print(
          `migrated ${r.runs} runs (${r.skipped} already there, ${r.unfinished} unfinished left out), ${r.jobs} jobs, incremental state of ${r.chains.length} backup jobs${r.chains.length ? ` (${r.chains.join(', ')})` : ''}`,
        );
      } finally {
        db.close();
      }
    });
}
