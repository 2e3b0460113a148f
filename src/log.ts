import { AsyncLocalStorage } from 'node:async_hooks';
import { type Logger, pino } from 'pino';
import { boundKeys, dedupeChildBindings, uniqueFields } from './log-keys.ts';

export type { Logger };

/** The levels `--log-level` and $BO_LOG_LEVEL accept. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** `--log-format` and $BO_LOG_FORMAT: pino JSON lines, or one readable line per record. */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Fields every log line written on behalf of a run carries (runId, job, kind, host), whichever
 * logger writes it: storage and hosts are built once with the process's logger, so the run's
 * identity travels with the async context instead of through every call. The job runner sets it
 * (withLogContext); a logger's own bindings and a line's explicit fields win over it.
 */
const runContext = new AsyncLocalStorage<Readonly<Record<string, string>>>();

/** Runs `fn` (and everything it starts) with `fields` on every log line. */
export function withLogContext<T>(fields: Readonly<Record<string, string>>, fn: () => T): T {
  return runContext.run(fields, fn);
}

/** The fields of the run the current code works for, if any. */
export function currentLogContext(): Readonly<Record<string, string>> | undefined {
  return runContext.getStore();
}

/** pino mixin: the context's fields that the logger has not bound itself (no duplicate keys). */
function contextMixin(_obj: object, _level: number, logger: Logger): Record<string, string> {
  const fields = runContext.getStore();
  if (!fields) return {};
  const bound = boundKeys(logger);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (!bound.has(k)) out[k] = v;
  return out;
}

/** Paths pino must never print: secrets may travel through objects we log. */
export const REDACT_PATHS = [
  'secretAccessKey',
  'accessKeyId',
  'sessionToken',
  'password',
  'passphrase',
  'privateKey',
  'token',
  'identity',
  '*.secretAccessKey',
  '*.accessKeyId',
  '*.sessionToken',
  '*.password',
  '*.passphrase',
  '*.privateKey',
  '*.token',
  '*.identity',
  'headers.authorization',
  '*.headers.authorization',
];

export interface LogOptions {
  level?: string | undefined;
  /** `text`: one readable line per record ("warning: Could not … key=…"); default JSON. */
  format?: LogFormat | undefined;
  /** Where the lines go; stdout for the daemon (journald), stderr for the CLI so stdout stays for results. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.BO_LOG_LEVEL ?? 'info';
  const dest = opts.destination ?? process.stderr;
  return pino(
    {
      level,
      base: { app: 'bo' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin: contextMixin,
      // Each key once per line (see log-keys.ts).
      onChild: dedupeChildBindings,
      hooks: { logMethod: uniqueFields },
    },
    (opts.format === 'text' ? textDestination(dest) : dest) as pino.DestinationStream,
  );
}

/** A logger that drops everything; for tests and for quiet commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};
const OMIT = new Set(['level', 'time', 'app', 'msg', 'pid', 'hostname', 'runId']);

/** "warning: Could not remove object key=…": for people at a terminal and in cron mail. */
function textDestination(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      const fields = Object.entries(rec)
        .filter(([k]) => !OMIT.has(k))
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      out.write(
        `${LEVELS[rec.level as number] ?? 'log'}: ${String(rec.msg)}${fields.length ? `  ${fields.join(' ')}` : ''}\n`,
      );
    },
  };
}
