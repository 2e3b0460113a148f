import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
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
  if (level !== undefined && !LOG_LEVELS.includes(level)) {
    process.stderr.write(`bo: unknown log level "${level}" (use one of ${LOG_LEVELS.join(', ')})\n`);
    return EXIT.usage;
  }
  const format = requested(argv, '--log-format', process.env.BO_LOG_FORMAT);
  if (format !== undefined && !isLogFormat(format)) {
    process.stderr.write(`bo: unknown log format "${format}" (use one of ${LOG_FORMATS.join(', ')})\n`);
    return EXIT.usage;
  }
  const logging = { level, format };
  const log = createLogger({
    level: level ?? (tty ? 'warn' : 'info'),
    format: format ?? (tty ? 'text' : 'json'),
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
  try {
    await program.parseAsync(argv);
    return ctx.exitCode();
  } catch (err) {
    return report(err, controller.signal);
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
