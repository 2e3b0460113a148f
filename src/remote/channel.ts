import { Writable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { RemoteError } from '../errors.ts';
import type { RemoteProcess } from './host.ts';
import type { GroupMarker } from './pgid.ts';
import { type Supervised, supervise } from './supervise.ts';

/** ssh2 internals we reach into (see sendSignal). */
interface ChannelInternals {
  outgoing: { id: number; state: string };
  _client: { _protocol?: { signal(id: number, name: string): void } };
}

export interface ChannelProcess {
  process: RemoteProcess;
  supervised: Supervised;
}

/**
 * Turns an exec channel into a RemoteProcess: streams, abort, idle timeout, exit status.
 * `marker` is what wrapped the command (see pgid.ts); `killGroup` kills a remote process group
 * from another channel.
 */
export function channelProcess(
  ch: ClientChannel,
  opts: {
    host: string;
    signal?: AbortSignal | undefined;
    idleTimeoutMs: number;
    marker: GroupMarker;
    killGroup(pgid: number): void;
  },
): ChannelProcess {
  let killed = false;
  let pgid: number | undefined;
  let pgidKnown = false;
  let fallback: NodeJS.Timeout | undefined;
  const hangUp = (group: number | undefined) => {
    clearTimeout(fallback);
    if (group !== undefined) opts.killGroup(group);
    ch.close();
  };
  let closed = false;
  const kill = () => {
    // Once closed the group is gone (and its id free for reuse): nothing left to kill.
    if (killed || closed) return;
    killed = true;
    sendSignal(ch, 'KILL');
    if (pgidKnown) hangUp(pgid);
    // Killed within milliseconds of starting: the group id is on its way, wait for it briefly.
    else fallback = setTimeout(() => hangUp(undefined), 3000);
  };
  const stderr = opts.marker.stripper((found) => {
    pgid = found;
    pgidKnown = true;
    if (killed) hangUp(found);
  });
  ch.stderr.pipe(stderr);
  const supervised = supervise({
    host: opts.host,
    stdout: ch,
    stderr,
    signal: opts.signal,
    idleTimeoutMs: opts.idleTimeoutMs,
    kill,
  });
  ch.on('close', (code?: number | null, signal?: string) => {
    closed = true;
    clearTimeout(fallback);
    supervised.finish({ code: typeof code === 'number' ? code : null, signal: signal ?? null });
  });
  return {
    supervised,
    process: {
      stdin: guardStdin(ch, opts.host),
      stdout: supervised.stdout,
      stderr: supervised.stderr,
      done: supervised.done,
      kill,
    },
  };
}

/**
 * The SSH "signal" request: works for non-root logins (sshd killpg()s the session). ssh2's
 * public `signal()` refuses once stdin is closed, which is when run() aborts: send it directly.
 */
function sendSignal(ch: ClientChannel, name: string): void {
  const inner = ch as unknown as ChannelInternals;
  if (inner.outgoing.state !== 'open' && inner.outgoing.state !== 'eof') return;
  try {
    inner._client._protocol?.signal(inner.outgoing.id, name);
  } catch {
    // connection already gone
  }
}

/**
 * ssh2 silently drops writes once the channel is closed, so a writer would wait forever on a
 * command that exited early. This wrapper fails the pending write instead (like EPIPE locally).
 */
function guardStdin(ch: ClientChannel, host: string): Writable {
  let closed = false;
  let pending: ((err?: Error | null) => void) | undefined;
  const epipe = () =>
    Object.assign(new RemoteError(`command on ${host} stopped reading its input`), { code: 'EPIPE' });
  ch.once('close', () => {
    closed = true;
    const cb = pending;
    pending = undefined;
    cb?.(epipe());
  });
  const stdin = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (closed) return cb(epipe());
      // The channel buffers up to its own high-water mark; wait only when it asks us to.
      if (ch.write(chunk)) return cb();
      pending = cb;
      ch.once('drain', () => {
        if (pending !== cb) return;
        pending = undefined;
        cb();
      });
    },
    final(cb) {
      if (closed) return cb();
      // Done once ssh2 has sent everything it buffered, or EPIPE if the channel closes first.
      pending = cb;
      ch.once('finish', () => {
        if (pending !== cb) return;
        pending = undefined;
        cb();
      });
      ch.end();
    },
  });
  // Errors surface through pipeline() or `done`; an unwatched stdin must not crash the daemon.
  stdin.on('error', () => {});
  return stdin;
}
