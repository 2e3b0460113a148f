/**
 * Typed, user-facing errors. Anything that is not a BoError reaching the top is a bug:
 * the CLI prints its stack and asks for a report. Exit codes are decided in cli/main.ts.
 */

export type ExitCode = 0 | 1 | 2 | 3 | 130;

export const EXIT = {
  ok: 0,
  jobFailed: 1,
  usage: 2,
  /**
   * A monitoring probe (`bo health`) that could not tell: a check that could not measure, or
   * the probe itself failed (usage, config, any error). Nagios/Icinga UNKNOWN; never pages as
   * CRITICAL (2) does.
   */
  unknown: 3,
  cancelled: 130,
} as const satisfies Record<string, ExitCode>;

/** A problem the user can act on; shown without a stack trace. */
export class BoError extends Error {
  readonly exitCode: ExitCode;
  /** Optional hint printed after the message ("run `bo hosts trust files1`"). */
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? EXIT.jobFailed;
    this.hint = opts.hint;
  }
}

/** Bad command line or bad config: exit 2, nothing touched. */
export class UsageError extends BoError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: EXIT.usage });
  }
}

export interface ConfigProblem {
  /** Dotted path into the config, e.g. `jobs.web1.paths`. Empty for the whole file. */
  path: string;
  message: string;
}

/** Every problem found in a config file, listed together. */
export class ConfigError extends UsageError {
  readonly problems: ConfigProblem[];
  readonly file: string;
  constructor(file: string, problems: ConfigProblem[]) {
    // A message's further lines (a YAML code frame) are indented under its first.
    const lines = problems.map(
      (p) => `  ${p.path ? `${p.path}: ` : ''}${p.message.replaceAll('\n', '\n    ')}`,
    );
    super(
      `invalid config ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
    this.problems = problems;
    this.file = file;
  }
}

/** The run was cancelled (SIGINT/SIGTERM or an explicit abort). */
export class CancelledError extends BoError {
  constructor(message = 'cancelled') {
    super(message, { exitCode: EXIT.cancelled });
  }
}

/** SSH host key missing from the pins or different from them. */
export class HostKeyError extends BoError {
  readonly fingerprint: string;
  constructor(message: string, fingerprint: string, hint?: string) {
    super(message, hint === undefined ? {} : { hint });
    this.fingerprint = fingerprint;
  }
}

/** Stored data does not match what the manifest promises (size, checksum, authentication). */
export class IntegrityError extends BoError {}

/** A storage object that does not exist. */
export class NotFoundError extends BoError {}

/** A remote command failed or a host could not be reached. */
export class RemoteError extends BoError {}

/** Storage backend failures (credentials, bucket, network). */
export class StorageError extends BoError {}

/** True when the error (or its cause chain) comes from an aborted signal. */
export function isAbortError(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (
      e instanceof CancelledError ||
      e.name === 'AbortError' ||
      (e as { code?: string }).code === 'ABORT_ERR'
    ) {
      return true;
    }
  }
  return false;
}

/** Throws CancelledError when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A create-only write found the object already there (lock contention). */
export class AlreadyExistsError extends BoError {}
