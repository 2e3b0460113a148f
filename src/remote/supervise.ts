import { type Readable, Transform } from 'node:stream';
import { CancelledError, RemoteError } from '../errors.ts';
import { seconds } from './describe.ts';
import type { ExecResult } from './host.ts';

export interface SuperviseOptions {
  /** Host name for messages. */
  host: string;
  stdout: Readable;
  stderr: Readable;
  signal?: AbortSignal | undefined;
  /** 0 disables the idle timeout. */
  idleTimeoutMs: number;
  /** Makes the process die (signal KILL + close channel, or kill the process group). */
  kill(): void;
}

export interface Supervised {
  stdout: Readable;
  stderr: Readable;
  done: Promise<ExecResult>;
  /** The process ended normally: resolve `done`. */
  finish(result: ExecResult): void;
  /** Kill the process, end its streams early and reject `done` with `err`. */
  fail(err: Error): void;
  readonly settled: boolean;
}

/**
 * The part of a running command that SSH and local processes share: abort, idle timeout and the
 * `done` promise. Output passes through a pass-through tap that notes activity; `pipe` keeps
 * flow control end to end, so a slow consumer stalls the producer instead of growing memory.
 */
export function supervise(opts: SuperviseOptions): Supervised {
  let lastActivity = Date.now();
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveDone!: (r: ExecResult) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<ExecResult>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // A caller that only reads the streams must not crash the process with an unhandled rejection.
  done.catch(() => {});
  const touch = () => {
    lastActivity = Date.now();
  };
  // A reader that destroys a stream early (a failed upload) means nobody wants the rest: kill.
  const abandon = () => opts.kill();
  const stdout = tap(opts.stdout, touch, abandon);
  const stderr = tap(opts.stderr, touch, abandon);

  const cleanup = () => {
    settled = true;
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  };
  const fail = (err: Error) => {
    if (settled) return;
    cleanup();
    opts.kill();
    // Destroy without an error: a reader sees a premature close (pipeline rejects), while a
    // stream nobody listens to cannot raise an unhandled 'error'. `done` carries the reason.
    stdout.destroy();
    stderr.destroy();
    rejectDone(err);
  };
  const onAbort = () => {
    const reason: unknown = opts.signal?.reason;
    fail(reason instanceof CancelledError ? reason : new CancelledError());
  };
  const checkIdle = () => {
    const idle = Date.now() - lastActivity;
    // Output waiting in our buffers means the consumer is slow, not the command silent.
    const backlog = stdout.readableLength + stderr.readableLength + opts.stdout.readableLength;
    if (backlog > 0) touch();
    if (idle < opts.idleTimeoutMs || backlog > 0) {
      timer = setTimeout(checkIdle, opts.idleTimeoutMs - (Date.now() - lastActivity) + 5);
      return;
    }
    fail(new RemoteError(`command on ${opts.host} produced no output for ${seconds(opts.idleTimeoutMs)}`));
  };

  if (opts.signal?.aborted) queueMicrotask(onAbort);
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.idleTimeoutMs > 0) timer = setTimeout(checkIdle, opts.idleTimeoutMs);

  return {
    stdout,
    stderr,
    done,
    fail,
    finish(result) {
      if (settled) return;
      cleanup();
      resolveDone(result);
    },
    get settled() {
      return settled;
    },
  };
}

function tap(source: Readable, touch: () => void, abandon: () => void): Readable {
  const out = new Transform({
    transform(chunk, _enc, cb) {
      touch();
      cb(null, chunk);
    },
  });
  source.pipe(out);
  source.on('error', () => out.destroy());
  out.on('close', () => {
    if (out.writableFinished) return;
    abandon();
    // Keep draining so the channel / pipe can close and `done` settles.
    source.unpipe(out);
    source.resume();
  });
  return out;
}
