import { type Command, Option } from 'commander';
import { compactHeap } from '../../archive/buffer-gc.ts';
import { type DaemonHandle, startDaemon } from '../../daemon/daemon.ts';
import type { JobExecutor } from '../../daemon/scheduler.ts';
import { systemdUnit } from '../../daemon/unit.ts';
import { UsageError } from '../../errors.ts';
import { createLogger, type Logger } from '../../log.ts';
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
  SIGHUP           re-read the config (once up, if sent while starting); ignored while stopping

Usually run by systemd: --print-unit writes the unit, with ExecStart naming the Node 24 and
the bo that print it (install bo first), the config from --config (default /etc/bo/bo.yaml).
While it runs, \`bo status\`, \`bo jobs\` and \`bo backup now\` go through its control socket
(daemon.socket).

Examples:
  bo daemon --print-unit > /etc/systemd/system/bo.service
  bo daemon --config /etc/bo/bo.yaml
  bo daemon --log-format text --log-level debug   (in a terminal, to watch it)`,
    )
    .option('--print-unit', 'print the systemd unit for this installation instead of running')
    // Benchmark only (bench/scheduler.ts): every run succeeds at once without doing anything,
    // so the scheduler, the run history and the logs of the real process can be measured alone.
    .addOption(new Option('--bench-noop-jobs', 'benchmark only: job bodies do nothing').hideHelp())
    .action(async (opts: { benchNoopJobs?: boolean; printUnit?: boolean }, cmd: Command) => {
      if (opts.printUnit) {
        const { config } = cmd.optsWithGlobals<{ config?: string }>();
        ctx.out.print(systemdUnit(config ?? '/etc/bo/bo.yaml'));
        // User=bo cannot run a Node or a bo that lives in someone's home (nvm, a checkout).
        if (/^\/(root|home)\//.test(process.execPath) || /^\/(root|home)\//.test(import.meta.dirname))
          ctx.out.note(
            'warning: Node or bo is under /root or /home, which the bo user may not be able to read',
          );
        return;
      }
      // SIGHUP's default action kills the process, so the handler goes in before anything
      // else: a reload asked for while starting is applied once the daemon is up, and one
      // during the shutdown grace is ignored (the runs still finishing must record their end).
      let daemon: DaemonHandle | undefined;
      let state: 'starting' | 'running' | 'stopping' = 'starting';
      let reloadPending = false;
      let log: Logger | undefined;
      const onHangup = () => {
        if (state === 'stopping') log?.warn('SIGHUP ignored: the daemon is stopping');
        else if (state === 'starting') {
          reloadPending = true;
          log?.info('SIGHUP received while starting: the config is re-read once the daemon is up');
        } else {
          log?.info('SIGHUP received: reloading the config');
          daemon?.reload();
          compactHeap();
        }
      };
      process.on('SIGHUP', onHangup);
      const loaded = ctx.config();
      // The daemon's output is its log, on stdout for journald: JSON unless a person watches it.
      log = createLogger({
        level: ctx.logging.level ?? 'info',
        format: ctx.logging.format ?? (process.stdout.isTTY ? 'text' : 'json'),
        destination: process.stdout,
      });
      if (loaded.embedded)
        log.warn({ file: loaded.file }, 'No config found; the daemon runs the shipped example config');
      let execute: JobExecutor | undefined;
      if (opts.benchNoopJobs) {
        // Fake successes in a real state database would hide overdue jobs: never by accident.
        if (ctx.env.BO_BENCH !== '1')
          throw new UsageError('--bench-noop-jobs is for bench/scheduler.ts only (it sets BO_BENCH=1)');
        log.warn('Benchmark mode (--bench-noop-jobs): job bodies do nothing, nothing is backed up');
        // BO_BENCH_SLOW_JOB names one job whose no-op lasts a minute (bench/cluster.ts's failover).
        const slow = ctx.env.BO_BENCH_SLOW_JOB;
        execute = async (name, _job, run) => {
          if (name === slow) await ctx.clock.sleep(60_000, run.signal);
          return { summary: 'no-op (benchmark mode)' };
        };
      }
      // Benchmark mode logs the process's memory every 5 s, so a bench can see where RSS goes.
      const memory = execute ? setInterval(() => logMemory(log!), 5000).unref() : undefined;
      try {
        daemon = await startDaemon({ loaded, log, clock: ctx.clock, env: ctx.env, execute });
      } catch (err) {
        process.off('SIGHUP', onHangup);
        clearInterval(memory);
        throw err;
      }
      state = 'running';
      // The config load's garbage, before it settles in for minutes (see compactHeap).
      compactHeap();
      if (reloadPending) onHangup();
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) return resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      state = 'stopping';
      log.info(
        { reason: String((ctx.signal.reason as Error)?.message ?? ctx.signal.reason) },
        'Shutdown requested',
      );
      // The handler stays until the process exits: a SIGHUP after stop() must not kill it either.
      await daemon.stop();
      clearInterval(memory);
    });
}

function logMemory(log: Logger): void {
  const mb = (n: number) => Math.round(n / 1e5) / 10;
  const m = process.memoryUsage();
  log.info(
    {
      rssMB: mb(m.rss),
      heapUsedMB: mb(m.heapUsed),
      heapTotalMB: mb(m.heapTotal),
      externalMB: mb(m.external),
      arrayBuffersMB: mb(m.arrayBuffers),
    },
    'Memory',
  );
}
