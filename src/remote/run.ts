import type { Readable } from 'node:stream';
import type { ExecOptions, Host, RunResult } from './host.ts';

export const DEFAULT_MAX_BYTES = 1024 * 1024;

export type RunOptions = ExecOptions & { input?: string | Buffer; maxBytes?: number };

/**
 * Host.run on top of Host.exec: writes `input` then closes stdin, captures both outputs up to
 * `maxBytes` each (the rest is drained and counted, so the command never blocks), waits for exit.
 */
export async function runCommand(
  exec: Host['exec'],
  command: string,
  opts: RunOptions = {},
): Promise<RunResult> {
  const { input, maxBytes = DEFAULT_MAX_BYTES, ...execOpts } = opts;
  const proc = await exec(command, execOpts);
  proc.stdin.end(input ?? '');
  const [result, stdout, stderr] = await Promise.all([
    proc.done,
    capture(proc.stdout, maxBytes),
    capture(proc.stderr, maxBytes),
  ]);
  return { ...result, stdout, stderr };
}

/** Collects a stream into a string, keeping the first `maxBytes` and noting what was dropped. */
export function capture(stream: Readable, maxBytes: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let dropped = 0;
    const finish = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(dropped > 0 ? `${text}\n[output truncated: ${dropped} more bytes not shown]` : text);
    };
    stream.on('data', (chunk: Buffer) => {
      const room = maxBytes - kept;
      if (room >= chunk.length) {
        chunks.push(chunk);
        kept += chunk.length;
      } else {
        if (room > 0) chunks.push(chunk.subarray(0, room));
        kept += Math.max(room, 0);
        dropped += chunk.length - Math.max(room, 0);
      }
    });
    // Resolve on end or on an early close: `done` carries the reason a stream was cut short.
    stream.once('close', finish);
    stream.once('error', () => {});
  });
}
