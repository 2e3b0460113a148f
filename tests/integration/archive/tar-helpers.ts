/** Running tar commands locally through `sh -c`, as a server would, for the tar integration tests. */
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ShResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

/** Runs `command` with `sh -c`, feeding `input` (a stream or bytes) to stdin. */
export async function sh(command: string, input?: Readable | Buffer): Promise<ShResult> {
  const child = spawn('/bin/sh', ['-c', command], { stdio: 'pipe' });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  child.stdin.on('error', () => {});
  const feeding = input
    ? pipeline(Buffer.isBuffer(input) ? Readable.from([input]) : input, child.stdin)
    : child.stdin.end();
  const [code] = await Promise.all([exited, Promise.resolve(feeding).catch(() => {})]);
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), code };
}

/** A stream of `buf` in chunks of `size` bytes. */
export function chunked(buf: Buffer, size = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    })(),
  );
}

/** A writable collecting everything written to it. */
export function collector(): { stream: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, bytes: () => Buffer.concat(parts) };
}
