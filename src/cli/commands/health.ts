import type { Command } from 'commander';
import { renderText } from '../../health/render/text.ts';
import { performHealth } from '../../health/service.ts';
import { overallStatus, STATUS_CODE } from '../../health/types.ts';
import type { CliContext } from '../context.ts';

export function registerHealth(program: Command, ctx: CliContext): void {
  program
    .command('health')
    .description(
      'Run the health checks now: problems first; a Nagios/Icinga plugin (exit 0 ok, 1 warn, 2 crit, 3 unknown)',
    )
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

Exit codes (Monitoring Plugins rules; /metrics exports the same codes as bo_health_status):
  0  every check ok
  1  a warning, nothing critical
  2  a critical result
  3  unknown: a check could not measure (and nothing warns or is critical), or bo health
     itself could not run: an unknown host, role or option, no host selected, a missing or
     invalid config, any error. A typo in an NRPE command never pages as CRITICAL.

After the summary, the numeric results follow a \`|\` as performance data, one item a line:
  'host check subject'=value[UOM];warn;crit;min;max
Units are %, s and ms (hours and days become seconds) or none; \`80\` alerts above 80, \`14:\`
below 14. As an NRPE command (nrpe.cfg):
  command[bo_health]=/usr/local/bin/bo health --role storage

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
      ctx.setExit(STATUS_CODE[overallStatus(report.summary)]);
    });
}
