import type { Command } from 'commander';
import { summarizeConfig } from '../../config/summary.ts';
import type { CliContext } from '../context.ts';

export function registerConfig(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('Inspect the configuration');
  config
    .command('check')
    .description('Validate the config file (every problem is listed with its path) and print a summary')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Every problem is listed with its path, and the exit code is 2; nothing is touched either way.

Examples:
  bo config check
  bo --config /etc/bo/bo.yaml config check --json`,
    )
    .action((opts: { json?: boolean }) => {
      const loaded = ctx.config();
      const summary = summarizeConfig(loaded);
      if (opts.json) ctx.out.json(summary);
      else ctx.out.print(summary.text);
    });
}
