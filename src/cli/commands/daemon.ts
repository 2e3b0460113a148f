import type { Command } from 'commander';
import { startDaemon } from '../../daemon/daemon.ts';
import { createLogger } from '../../log.ts';
import type { CliContext } from '../context.ts';

export function registerDaemon(program: Command, ctx: CliContext): void {
  program
    .command('daemon')
    .description('Run the scheduler: configured jobs on their schedules, with the control socket for the CLI')
    .addHelpText(
      'after',
      `
Logs go to stdout as pino JSON (journald), with runId, job and host on every line of a run.
Signals:
  SIGTERM, SIGINT  stop scheduling, give running jobs daemon.shutdownGrace, cancel the rest, exit 0
  SIGHUP           re-read the config; an invalid one is logged and the running config stays

Usually run by systemd (systemd/bo.service). While it runs, \`bo status\`, \`bo jobs\` and
\`bo backup now\` go through its control socket (daemon.socket).`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const loaded = ctx.config();
      const { logLevel } = cmd.optsWithGlobals<{ logLevel?: string }>();
      const log = createLogger({
        level: logLevel ?? ctx.env.BO_LOG_LEVEL ?? 'info',
        destination: process.stdout,
      });
      if (loaded.embedded)
        log.warn({ file: loaded.file }, 'No config found; the daemon runs the shipped example config');
      const daemon = await startDaemon({ loaded, log, clock: ctx.clock, env: ctx.env });
      const onHangup = () => {
        log.info('SIGHUP received: reloading the config');
        daemon.reload();
      };
      process.on('SIGHUP', onHangup);
      try {
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) return resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        log.info(
          { reason: String((ctx.signal.reason as Error)?.message ?? ctx.signal.reason) },
          'Shutdown requested',
        );
      } finally {
        process.off('SIGHUP', onHangup);
        await daemon.stop();
      }
    });
}
