import { type Logger, pino } from 'pino';

export type { Logger };

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
  level?: string;
  /** Where JSON lines go; stdout for the daemon (journald), stderr for the CLI so stdout stays for data. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.BO_LOG_LEVEL ?? 'info';
  return pino(
    { level, base: { app: 'bo' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}

/** A logger that drops everything; for tests and for quiet commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
