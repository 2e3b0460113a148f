import { readFileSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { BoError, CancelledError, EXIT, type ExitCode, isAbortError } from '../errors.ts';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../log.ts';
import { createCliContext } from './context.ts';
import { createOutput } from './output.ts';
import { buildProgram } from './program.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The one place that turns outcomes into exit codes. Commands return an exit code or throw:
 * BoError → its message and code; anything else → a bug report with the stack.
 */
export async function main(argv: string[]): Promise<ExitCode> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.cancelled);
    process.stderr.write(`\nbo: ${sig} received, cancelling (press Ctrl-C again to force)\n`);
    controller.abort(new CancelledError(`cancelled by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `bo list | head`: a closed stdout is the reader's choice, not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });

  // At a terminal people read progress and summaries, so only warnings and errors are logged,
  // in plain text; from cron or scripts the log is pino JSON at info level (--log-format text
  // makes it readable for cron mail). Results go to stdout either way, logs to stderr.
  const tty = Boolean(process.stderr.isTTY);
  const level = requested(argv, '--log-level', process.env.BO_LOG_LEVEL);
  const badLevel = level !== undefined && !LOG_LEVELS.includes(level);
  const format = requested(argv, '--log-format', process.env.BO_LOG_FORMAT);
  const badFormat = format !== undefined && !isLogFormat(format);
  const logging = {
    level: badLevel ? undefined : level,
    format: badFormat ? undefined : (format as LogFormat),
  };
  const log = createLogger({
    level: logging.level ?? (tty ? 'warn' : 'info'),
    format: logging.format ?? (tty ? 'text' : 'json'),
  });
  const out = createOutput();
  let program: ReturnType<typeof buildProgram> | undefined;
  const ctx = createCliContext({
    log,
    out,
    signal: controller.signal,
    logging,
    configFlag: () => program?.opts<{ config?: string }>().config,
  });
  program = buildProgram(ctx, VERSION);
  const probe = PROBES.has(commandName(program, argv.slice(2)) ?? '');
  try {
    if (badLevel || badFormat) {
      process.stderr.write(
        badLevel
          ? `bo: unknown log level "${level}" (use one of ${LOG_LEVELS.join(', ')})\n`
          : `bo: unknown log format "${format}" (use one of ${LOG_FORMATS.join(', ')})\n`,
      );
      return probe ? EXIT.unknown : EXIT.usage;
    }
    await program.parseAsync(argv);
    return ctx.exitCode();
  } catch (err) {
    const code = report(err, controller.signal);
    // A probe's own failure (a typo in the NRPE command, a broken config, a bug) is UNKNOWN:
    // the monitoring system must not page anyone as it would for CRITICAL (2).
    return probe && code !== EXIT.ok && code !== EXIT.cancelled ? EXIT.unknown : code;
  } finally {
    await ctx.close().catch(() => {});
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function report(err: unknown, signal: AbortSignal): ExitCode {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
      return EXIT.ok;
    return EXIT.usage;
  }
  if (signal.aborted || isAbortError(err)) {
    process.stderr.write(`bo: ${err instanceof BoError ? err.message : 'cancelled'}\n`);
    return EXIT.cancelled;
  }
  if (err instanceof BoError) {
    process.stderr.write(`bo: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    return err.exitCode;
  }
  process.stderr.write(
    `bo: unexpected error — this is a bug, please report it with the output below\n${(err as Error)?.stack ?? String(err)}\n`,
  );
  return EXIT.jobFailed;
}

/**
 * Commands that are monitoring probes (Nagios/Icinga plugin exit codes): `bo health` exits with
 * the worst result's code (0 ok, 1 warn, 2 crit, 3 unknown), and 3 for any error of its own.
 */
const PROBES = new Set(['health']);

/** The command `args` invoke (the first operand), skipping the program's options and their values. */
function commandName(program: Command, args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (!a.startsWith('-')) {
      const cmd = program.commands.find((c) => c.name() === a || c.aliases().includes(a));
      return cmd?.name();
    }
    const opt = program.options.find((o) => o.short === a || o.long === a);
    if (opt && (opt.required || opt.optional) && !a.includes('=')) i++;
  }
  return undefined;
}

/** `--flag V`, `--flag=V`, else the environment variable; an empty value means unset. */
function requested(argv: string[], flag: string, env: string | undefined): string | undefined {
  const i = argv.indexOf(flag);
  const value =
    i > 0 ? argv[i + 1] : (argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1) ?? env);
  return value === undefined || value === '' ? undefined : value;
}

function isLogFormat(s: string): s is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(s);
}
