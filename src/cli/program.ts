import { Command, Option } from 'commander';
import { LOG_FORMATS, LOG_LEVELS } from '../log.ts';
import { registerBackup } from './commands/backup.ts';
import { registerCluster } from './commands/cluster.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerConfig } from './commands/config.ts';
import { registerCopy } from './commands/copy.ts';
import { registerDaemon } from './commands/daemon.ts';
import { registerDiff } from './commands/diff.ts';
import { registerDrill } from './commands/drill.ts';
import { registerFind } from './commands/find.ts';
import { registerHealth } from './commands/health.ts';
import { registerHosts } from './commands/hosts.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerKey } from './commands/key.ts';
import { registerList } from './commands/list.ts';
import { registerLocks } from './commands/locks.ts';
import { registerLs } from './commands/ls.ts';
import { registerPrune } from './commands/prune.ts';
import { registerReport } from './commands/report.ts';
import { registerRestore } from './commands/restore.ts';
import { registerRun } from './commands/run.ts';
import { registerSnapshot } from './commands/snapshot.ts';
import { registerStatus } from './commands/status.ts';
import { registerVerify } from './commands/verify.ts';
import type { CliContext } from './context.ts';

export const EXIT_CODES_HELP = `
Exit codes:
  0    ok
  1    a job failed (for \`bo health\`: a warning)
  2    usage or config error (for \`bo health\`: critical)
  3    \`bo health\` only: unknown, also for its usage and config errors (Nagios rules)
  130  cancelled (SIGINT/SIGTERM)

Config: --config FILE, else $BO_CONFIG, else /etc/bo/bo.yaml, else ./bo.yaml, else the shipped
example config/bo.example.yaml.`;

/** A command module adds its subcommands to the program; the list below is the whole CLI. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

const commands: RegisterCommand[] = [
  registerBackup,
  registerList,
  registerLs,
  registerFind,
  registerDiff,
  registerRestore,
  registerCopy,
  registerSnapshot,
  registerPrune,
  registerVerify,
  registerDrill,
  registerLocks,
  registerRun,
  registerDaemon,
  registerCluster,
  registerStatus,
  registerJobs,
  registerConfig,
  registerHealth,
  registerReport,
  registerHosts,
  registerKey,
  registerCompletion,
];

export function buildProgram(ctx: CliContext, version: string): Command {
  const program = new Command('bo')
    .description(
      'Back-office operations for Linux fleets: agentless backups over SSH, restores, health checks',
    )
    .version(version)
    .option('-c, --config <file>', 'config file (default: $BO_CONFIG, /etc/bo/bo.yaml, ./bo.yaml)')
    .addOption(
      new Option(
        '--log-level <level>',
        'log level (default: warn on a terminal, else info; or $BO_LOG_LEVEL)',
      ).choices(LOG_LEVELS),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'format of the log lines on stderr (default: text on a terminal, else json; or $BO_LOG_FORMAT)',
      ).choices(LOG_FORMATS),
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commands) register(program, ctx);
  return program;
}
