import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { CancelledError, RemoteError } from '../../../src/errors.ts';
import { shellJoin } from '../../../src/plan/shell.ts';
import type { Host } from '../../../src/remote/host.ts';
import { until } from '../../fixtures/until.ts';

const MB = 1024 * 1024;

/** Collects a stream into one Buffer. */
async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Waits until no process matches the pattern any more (checked with a second command). */
export async function gone(host: Host, pattern: string): Promise<boolean> {
  return until(async () => (await matching(host, pattern)) === 0, 30_000, 100);
}

/** How many processes match the pattern (checked with a second command). */
async function matching(host: Host, pattern: string): Promise<number> {
  const out = (await host.run(`pgrep -f ${shellJoin([pattern])} || true`)).stdout.trim();
  return out === '' ? 0 : out.split('\n').length;
}

/** A `sleep` whose duration is unique to this test: its own marker for pgrep. */
function uniqueSleep(): { command: string; pattern: string } {
  const secs = `1000.${randomInt(100000, 999999)}`;
  // Two sleeps, one in the background: killing must take the whole process group.
  return { command: `sleep ${secs} & sleep ${secs}; wait`, pattern: `[s]leep ${secs.replace('.', '\\.')}` };
}

/**
 * The behaviour every Host implementation promises (src/remote/host.ts). Run against SshHost
 * (real sshd) and LocalHost. `getHost` returns undefined when the target is unavailable.
 */
export function hostContract(label: string, getHost: () => Host | undefined): void {
  describe(`Host contract: ${label}`, () => {
    let host: Host;
    beforeEach((ctx) => {
      const h = getHost();
      if (!h) return ctx.skip();
      host = h;
    });

    it('streams 50 MB of stdout byte for byte', async () => {
      // A fifo, not /dev/fd/N or >(…): local stdio are sockets and /bin/sh may be dash.
      const proc = await host.exec(
        'f=$(mktemp -u); mkfifo "$f" && { sha256sum < "$f" >&2 & head -c 52428800 /dev/urandom | tee "$f"; wait; rm -f "$f"; }',
      );
      proc.stdin.end();
      const hash = createHash('sha256');
      let bytes = 0;
      const [stderr] = await Promise.all([
        collect(proc.stderr),
        pipeline(
          proc.stdout,
          new Writable({
            write(chunk: Buffer, _e, cb) {
              hash.update(chunk);
              bytes += chunk.length;
              cb();
            },
          }),
        ),
      ]);
      expect(await proc.done).toEqual({ code: 0, signal: null });
      expect(bytes).toBe(50 * MB);
      expect(stderr.toString().split(/\s/)[0]).toBe(hash.digest('hex'));
    });

    it('reports exit codes and signals as results, not rejections', async () => {
      expect(await host.run('exit 7')).toMatchObject({ code: 7, signal: null });
      expect(await host.run('false')).toMatchObject({ code: 1, signal: null });
      expect(await host.run('kill -s TERM $$')).toMatchObject({ code: null, signal: 'SIGTERM' });
      const proc = await host.exec('exit 3');
      proc.stdin.end();
      expect(await proc.done).toEqual({ code: 3, signal: null });
    });

    it('keeps stderr separate from stdout', async () => {
      const r = await host.run('echo out; echo err >&2; echo out2');
      expect(r).toEqual({ code: 0, signal: null, stdout: 'out\nout2\n', stderr: 'err\n' });
    });

    it('round-trips stdin through cat byte for byte', async () => {
      const data = randomBytes(4 * MB);
      const proc = await host.exec('cat');
      const [out] = await Promise.all([collect(proc.stdout), pipeline(Readable.from([data]), proc.stdin)]);
      expect(await proc.done).toEqual({ code: 0, signal: null });
      expect(out.equals(data)).toBe(true);
      expect((await host.run('wc -c', { input: data })).stdout.trim()).toBe(String(data.length));
      expect((await host.run('cat', { input: 'ünïcödé ✓\n' })).stdout).toBe('ünïcödé ✓\n');
    });

    it('passes quoted arguments through the shell intact', async () => {
      const args = ['', "it's", 'a b', 'line1\nline2', '$(id)', '`id`', '$HOME', '"q"', '\\', '*', 'ünï ✓'];
      const r = await host.run(`printf '%s\\0' ${shellJoin(args)}`);
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(args);
    });

    it('run() caps captured output and says so', async () => {
      const r = await host.run('head -c 3000000 /dev/zero; echo done >&2', { maxBytes: 1000 });
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith('\0'.repeat(1000))).toBe(true);
      expect(r.stdout).toContain('[output truncated: 2999000 more bytes not shown]');
      expect(r.stderr).toBe('done\n');
    });

    it('abort kills the whole command and rejects done with CancelledError', async () => {
      const { command, pattern } = uniqueSleep();
      const ac = new AbortController();
      const proc = await host.exec(command, { signal: ac.signal });
      // The shell and both sleeps.
      expect(await until(async () => (await matching(host, pattern)) >= 2, 30_000, 100)).toBe(true);
      ac.abort();
      await expect(proc.done).rejects.toBeInstanceOf(CancelledError);
      expect(await gone(host, pattern)).toBe(true);
    });

    it('abort of run() (stdin already closed) kills the command too', async () => {
      const { command, pattern } = uniqueSleep();
      const ac = new AbortController();
      const running = host.run(command, { signal: ac.signal });
      setTimeout(() => ac.abort(), 300);
      await expect(running).rejects.toBeInstanceOf(CancelledError);
      expect(await gone(host, pattern)).toBe(true);
    });

    it('an already aborted signal refuses to start', async () => {
      await expect(host.exec('true', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CancelledError);
    });

    it('kills a command that stays silent longer than the idle timeout', async () => {
      const { command, pattern } = uniqueSleep();
      const err = await host.run(command, { idleTimeoutMs: 400 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as Error).message).toBe(`command on ${host.name} produced no output for 0.4s`);
      expect(await gone(host, pattern)).toBe(true);
    });

    it('output keeps the idle timer from firing', async () => {
      const r = await host.run('for i in 1 2 3 4 5 6; do echo $i; sleep 0.1; done', { idleTimeoutMs: 2000 });
      expect(r.stdout).toBe('1\n2\n3\n4\n5\n6\n');
    });

    it('a slow consumer stalls the producer instead of growing memory; kill() stops it', async () => {
      const proc = await host.exec('head -c 400000000 /dev/zero');
      proc.stdin.end();
      const first = await new Promise<Buffer>((resolve) => proc.stdout.once('data', resolve));
      proc.stdout.pause();
      const before = process.memoryUsage().arrayBuffers;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const grown = process.memoryUsage().arrayBuffers - before;
      expect(first.length).toBeGreaterThan(0);
      expect(grown).toBeLessThan(32 * MB);
      proc.kill();
      proc.stdout.resume();
      const result = await proc.done;
      expect(result.code).not.toBe(0);
    });

    it('a command that exits without reading its input fails the writer instead of hanging', async () => {
      const proc = await host.exec('exit 0');
      const write = pipeline(Readable.from([randomBytes(8 * MB)]), proc.stdin);
      proc.stdout.resume();
      proc.stderr.resume();
      await expect(write).rejects.toThrow();
      expect(await proc.done).toEqual({ code: 0, signal: null });
    });

    it('runs many commands at once', async () => {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => host.run(`sleep 0.2; echo ${i}`)),
      );
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    });
  });
}
