import type { Command } from 'commander';
import { EXIT } from '../../errors.ts';
import { renderText } from '../../health/render/text.ts';
import { performHealth } from '../../health/service.ts';
import type { CliContext } from '../context.ts';

export function registerHealth(program: Command, ctx: CliContext): void {
  program
    .command('health')
    .description('Run the health checks now: problems first, exit 0 ok, 1 warn, 2 crit (Nagios/Icinga style)')
    .argument('[hosts...]', 'host names (default: every configured host); "local" is this machine')
    .option('--role <role...>', 'only hosts with one of these roles')
    .option('--json', 'print the results as JSON')
    .option('-v, --verbose', 'list every ok result too')
    .addHelpText(
      'after',
      `
Hosts are checked concurrently (health.concurrency), each within health.hostTimeout; a host that
does not answer is reported as "reachable: crit" without holding up the others. Results go into
the state database (history for forecasts); alerts are sent by the daemon's health job only.

Exit codes: 0 every check ok (unknown counts as ok), 1 a warning, 2 a critical result, or a
usage error: an unknown host or role, or a selection that matches no host.

Examples:
  bo health                          every host, problems first
  bo health files1 mx1 --json        two hosts, as JSON
  bo health --role transmission      the mail servers`,
    )
    .action(async (hosts: string[], opts: { role?: string[]; json?: boolean; verbose?: boolean }) => {
      const { report } = await performHealth(ctx.services(), {
        log: ctx.log,
        signal: ctx.signal,
        select: { hosts, roles: opts.role },
      });
      if (opts.json) ctx.out.json(report);
      else ctx.out.print(renderText(report, { verbose: opts.verbose ?? false }));
      if (report.summary.crit > 0) ctx.setExit(EXIT.usage);
      else if (report.summary.warn > 0) ctx.setExit(EXIT.jobFailed);
    });
}
