/**
 * The control endpoint for real: a daemon started in this process on a real unix socket and a
 * real state database, with job bodies the test controls, talked to through the real client.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { connectDaemon } from '../../../src/daemon/client.ts';
import { type DaemonHandle, startDaemon } from '../../../src/daemon/daemon.ts';
import { CancelledError, UsageError } from '../../../src/errors.ts';
import type { JobRunContext, JobRunResult } from '../../../src/jobs/kinds.ts';
import { silentLogger } from '../../../src/log.ts';
import { until } from '../../fixtures/until.ts';

interface Body {
  ctx: JobRunContext;
  finish(): void;
}

async function setup(jobs: Record<string, Record<string, unknown>> = { j: {} }) {
  const dir = await mkdtemp(join(tmpdir(), 'bo-control-'));
  const socket = join(dir, 'run', 'bo.sock');
  const config = parseResolved(Config, {
    stateDir: join(dir, 'state'),
    daemon: { socket, shutdownGrace: '5s', http: { listen: '127.0.0.1:0' } },
    jobs: Object.fromEntries(
      Object.entries(jobs).map(([n, j]) => [n, { host: 'local', paths: ['/srv'], storage: 's', ...j }]),
    ),
  });
  const bodies: Body[] = [];
  const daemon = await startDaemon({
    loaded: { file: join(dir, 'bo.yaml'), config, embedded: false },
    log: silentLogger(),
    env: {},
    execute: (_name, _job, ctx) =>
      new Promise<JobRunResult>((resolve, reject) => {
        bodies.push({ ctx, finish: () => resolve({ summary: 'ok', bytes: 42, files: 3, backupId: 'b1' }) });
        ctx.signal.addEventListener('abort', () => reject(new CancelledError()), { once: true });
      }),
  });
  return { dir, socket, daemon, bodies };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function track<T extends { dir: string; daemon: DaemonHandle }>(s: T): T {
  cleanups.push(async () => {
    await s.daemon.stop();
    await rm(s.dir, { recursive: true, force: true });
  });
  return s;
}

describe('control endpoint', () => {
  it('serves on a 0660 unix socket; no daemon means undefined', async () => {
    const s = track(await setup());
    expect((await stat(s.socket)).mode & 0o777).toBe(0o660);
    expect(await connectDaemon(join(s.dir, 'nothing-here.sock'))).toBeUndefined();
    const client = await connectDaemon(s.socket);
    expect(client?.pid).toBe(process.pid);
  });

  it('turns concurrent requests for one job into exactly one run', async () => {
    const s = track(await setup());
    const answers = await Promise.all(
      Array.from({ length: 8 }, async () => (await connectDaemon(s.socket))!.enqueue('j')),
    );
    expect(new Set(answers.map((a) => a.runId)).size).toBe(1);
    expect(answers.filter((a) => !a.alreadyRunning)).toHaveLength(1);
    await until(() => s.bodies.length > 0);
    expect(s.bodies).toHaveLength(1);
    s.bodies[0]!.finish();
  });

  it('streams progress to a follower and returns the final record', async () => {
    const s = track(await setup());
    const client = (await connectDaemon(s.socket))!;
    const { runId } = await client.enqueue('j');
    await until(() => s.bodies.length > 0);
    const seen: number[] = [];
    const following = client.follow(runId, (p) => seen.push(p.bytes));
    // Progress reaches followers subscribed when it happens: report until the follower hears.
    const heard = () => {
      s.bodies[0]!.ctx.onProgress?.({ phase: 'streaming', bytes: 7, files: 1 });
      return seen.includes(7);
    };
    expect(await until(heard, 30_000, 100)).toBe(true);
    s.bodies[0]!.finish();
    const done = await following;
    expect(done).toMatchObject({ id: runId, job: 'j', outcome: 'ok', bytes: 42, files: 3, backupId: 'b1' });
    expect(seen).toContain(7);
    // following a finished run answers at once from the history
    expect(await client.follow(runId)).toMatchObject({ outcome: 'ok' });
    const status = await client.status();
    expect(status.source).toBe('daemon');
    expect(status.jobs[0]).toMatchObject({ job: 'j', lastRun: { id: runId, outcome: 'ok' } });
  });

  it('stops following on abort without cancelling the run, and cancels on request', async () => {
    const s = track(await setup());
    const client = (await connectDaemon(s.socket))!;
    const { runId } = await client.enqueue('j');
    const ac = new AbortController();
    const following = client.follow(runId, undefined, ac.signal);
    ac.abort();
    await expect(following).rejects.toThrow(CancelledError);
    expect((await client.run(runId))?.outcome).toBeUndefined();
    expect(await client.cancel(runId)).toBe(true);
    expect(await client.follow(runId)).toMatchObject({ outcome: 'cancelled' });
    expect(await client.cancel(runId)).toBe(false);
  });

  it('answers an unknown job with a usage error', async () => {
    const s = track(await setup());
    const client = (await connectDaemon(s.socket))!;
    await expect(client.enqueue('nope')).rejects.toThrow(UsageError);
    expect(await client.run('no-such-run')).toBeUndefined();
  });

  it('replaces a stale socket file and refuses to start beside a live daemon', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bo-control-'));
    const socket = join(dir, 'bo.sock');
    // a socket file left by a crashed daemon: nobody listens on it
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(socket, r));
    await new Promise<void>((r) => stale.close(() => r()));
    await writeFile(join(dir, 'placeholder'), '');
    const loaded = (stateDir: string) => ({
      file: join(dir, 'bo.yaml'),
      embedded: false,
      config: parseResolved(Config, { stateDir, daemon: { socket, http: { enabled: false } } }),
    });
    const first = await startDaemon({ loaded: loaded(join(dir, 's1')), log: silentLogger(), env: {} });
    cleanups.push(async () => {
      await first.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await expect(
      startDaemon({ loaded: loaded(join(dir, 's2')), log: silentLogger(), env: {} }),
    ).rejects.toThrow(/already listening/);
    expect((await connectDaemon(socket))?.pid).toBe(process.pid);
  });
});
