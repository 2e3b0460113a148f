import { connect, type Socket } from 'node:net';
import { CancelledError, errorMessage } from '../../errors.ts';

const CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'address not found',
  EAI_AGAIN: 'address lookup failed',
};

export function netReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && CODES[code]) ?? errorMessage(err);
}

/** Opens a TCP connection; rejects with a readable reason on error, timeout or abort. */
export function openSocket(
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledError());
    const sock = connect({ host, port });
    const fail = (err: Error) => {
      cleanup();
      sock.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)),
      timeoutMs,
    );
    const onAbort = () => fail(new CancelledError());
    const onError = (err: Error) => fail(new Error(netReason(err)));
    const cleanup = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.off('error', onError);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('error', onError);
    sock.once('connect', () => {
      cleanup();
      resolve(sock);
    });
  });
}

/**
 * Reads lines until `done(lines)` says the reply is complete (e.g. an SMTP reply without a
 * continuation dash). Rejects on close, error or timeout.
 */
export function readReply(
  sock: Socket,
  timeoutMs: number,
  done: (lines: string[]) => boolean,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const lines: string[] = [];
    const finish = (err?: Error) => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      sock.off('error', onError);
      if (err) reject(err);
      else resolve(lines);
    };
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      let i = buf.indexOf('\n');
      while (i >= 0) {
        lines.push(buf.slice(0, i).replace(/\r$/, ''));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
      if (lines.length > 0 && done(lines)) finish();
      else if (buf.length > 65536) finish(new Error('reply line too long'));
    };
    const onClose = () =>
      finish(new Error(lines.length ? `closed after "${lines.at(-1)}"` : 'closed without a reply'));
    const onError = (err: Error) => finish(new Error(netReason(err)));
    const timer = setTimeout(
      () => finish(new Error(lines.length ? `incomplete reply "${lines.at(-1)}"` : 'no reply (timed out)')),
      timeoutMs,
    );
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.once('error', onError);
  });
}
