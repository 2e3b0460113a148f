import type { Readable, Writable } from 'node:stream';

export interface ExecOptions {
  signal?: AbortSignal | undefined;
  /** Abort when the command produces no output for this long (ms). 0 disables. */
  idleTimeoutMs?: number | undefined;
}

export interface ExecResult {
  /** Exit code, or null when the command died by a signal or the channel closed without status. */
  code: number | null;
  signal: string | null;
}

/** A running remote (or local) command. */
export interface RemoteProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /**
   * Resolves when the command has exited and its streams are closed. Rejects with CancelledError
   * when the signal aborted, RemoteError on idle timeout or lost connection. A non-zero exit
   * code is not a rejection: callers decide what it means.
   */
  done: Promise<ExecResult>;
  /** Stops the command (closes the channel / kills the process group). Idempotent. */
  kill(): void;
}

export interface RunResult extends ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * A machine bo drives: over SSH (ssh.ts) or the local machine (local.ts), the same interface so
 * jobs never care which. Commands are run by the remote user's shell (`sh -c` semantics).
 */
export interface Host {
  readonly name: string;
  /** Connects (if needed) and starts a command. Rejects with RemoteError/HostKeyError on connection failure. */
  exec(command: string, opts?: ExecOptions): Promise<RemoteProcess>;
  /**
   * Runs a command to completion, capturing stdout/stderr (each capped at `maxBytes`, default 1 MiB).
   * `input` is written to stdin and then stdin is closed.
   */
  run(
    command: string,
    opts?: ExecOptions & { input?: string | Buffer; maxBytes?: number },
  ): Promise<RunResult>;
  /** Closes the connection. Idempotent. */
  close(): Promise<void>;
}
