/**
 * The real daemon (`node bin/bo --config X daemon`) as a child process backing up a real sshd
 * host into a real S3-compatible server (moto), as the daemon issue asks. Runs are made slow
 * with a `before: sleep …` hook on the SSH host rather than big files, to keep the suite fast.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDaemon } from '../../../src/daemon/client.ts';
import type { StatusReport } from '../../../src/daemon/status.ts';
import { runBo } from '../../fixtures/bo.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { waitUntil } from '../../fixtures/until.ts';
import { startFaultProxy } from '../storage/fault-proxy.ts';
import { base, cleanUp, daemon, env, linesOfRun, MiB, manifests, onCleanUp, runEnded } from './daemon-env.ts';

let sshd: SshdFixture | undefined;
let bucket: TestBucket | undefined;
beforeAll(async () => {
  sshd = await startSshd();
  if (!s3Missing()) bucket = await newBucket({ prefix: 'bo/' });
});
afterAll(async () => {
  await bucket?.destroy();
  await sshd?.stop();
});
afterEach(cleanUp);

/** Backup ids of `job` in the bucket that have a manifest. */
async function s3Manifests(b: TestBucket, job: string): Promise<string[]> {
  const listed = await b.client.send(new ListObjectsV2Command({ Bucket: b.name, Prefix: `bo/${job}/` }));
  return (listed.Contents ?? [])
    .map((o) => o.Key!)
    .filter((k) => k.endsWith('/manifest.json'))
    .map((k) => k.split('/')[2]!);
}

/** A `sleep` whose pid the test can find in /proc, so it knows the hook is running on the host. */
function markedSleep(seconds: number): { command: string; running(): boolean } {
  const arg = `${seconds}.${String(Math.floor(Math.random() * 1e6)).padStart(6, '1')}`;
  return {
    command: `sleep ${arg}`,
    running: () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .some((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${arg}\0`;
          } catch {
            return false;
          }
        }),
  };
}

describe('bo daemon against sshd and S3', () => {
  it('runs a job scheduled every few seconds, records it, shows it in bo status / bo jobs; every line of the run names it', async () => {
    if (!sshd || !bucket) return;
    // The first part upload gets a wrong ETag back, so the run logs "Retrying part upload" from
    // the shared storage: that line must name the run too.
    let parts = 0;
    const proxy = await startFaultProxy(bucket.endpoint, (r) =>
      r.method === 'PUT' && r.query.has('partNumber') && parts++ === 0
        ? { headers: { etag: '"00000000000000000000000000000000"' } }
        : undefined,
    );
    onCleanUp(proxy.close);
    const e = await env({ bigFile: 9 * MiB }); // above the 8 MiB first part: a multipart upload
    e.write({
      ...base(e, { http: { enabled: true, listen: '127.0.0.1:0' } }),
      hosts: { files1: sshd.hostConfig() },
      storage: { s3: { ...bucket.config, endpoint: proxy.endpoint } },
      jobs: {
        tick: {
          host: 'files1',
          paths: [e.src],
          storage: 's3',
          compression: 'none',
          schedule: '*/3 * * * * *',
        },
      },
    });
    const d = await daemon(e);
    await d.waitFor((l) => l.msg === 'Run finished' && l.job === 'tick', 40_000);

    const status = await runBo(['--config', e.cfg, 'status', '--json']);
    expect(status.code, `${status.stderr}${status.stdout}`).toBe(0);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(report.source).toBe('daemon');
    expect(report.jobs[0]).toMatchObject({
      job: 'tick',
      kind: 'backup',
      host: 'files1',
      lastRun: { outcome: 'ok' },
    });
    expect(report.jobs[0]?.nextRunAt).toBeDefined();
    const text = await runBo(['--config', e.cfg, 'status']);
    expect(text.stdout).toMatch(/^tick\s+backup\s+files1\s+.*ok \d+s ago/m); // maybe "RUNNING … (before: ok 1s ago)"
    const jobs = await runBo(['--config', e.cfg, 'jobs', '--json']);
    expect(JSON.parse(jobs.stdout)).toMatchObject({
      source: 'daemon',
      jobs: [{ job: 'tick', schedule: '*/3 * * * * *' }],
    });
    const page = String((await d.waitFor((l) => l.msg === 'HTTP status page listening')).url);
    expect(await (await fetch(new URL('metrics', page))).text()).toMatch(
      /^bo_runs_total\{job="tick",kind="backup",outcome="ok"\} [1-9]/m,
    );

    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    const runs = e.runs('tick').filter((r) => r.outcome === 'ok');
    expect(runs[0]).toMatchObject({
      trigger: 'schedule',
      kind: 'backup',
      host: 'files1',
      files: expect.any(Number),
    });
    expect(await s3Manifests(bucket, 'tick')).toContain(runs[0]!.backupId);

    const first = linesOfRun(d.logs, runs[0]!.id);
    expect(first.map((l) => l.msg)).toContain('Retrying part upload');
    for (const l of first) expect(l).toMatchObject({ runId: runs[0]!.id, job: 'tick', host: 'files1' });
    for (const l of d.logs.filter((x) => x.runId !== undefined))
      expect(l).toMatchObject({ job: 'tick', host: 'files1' });

    const offline = await runBo(['--config', e.cfg, 'status', '--json']);
    // with the daemon gone nothing runs the scheduled job (due every 3 s, it is soon overdue too)
    expect(offline.code).toBe(1);
    const [stopped, ...rest] = JSON.parse(offline.stdout).problems as string[];
    expect(stopped).toMatch(/^no daemon is running, but 1 job has a schedule/);
    for (const p of rest) expect(p).toMatch(/^tick: overdue/);
    expect(JSON.parse(offline.stdout)).toMatchObject({
      source: 'state-db',
      jobs: [{ job: 'tick', lastRun: { outcome: 'ok' } }],
    });
  });

  it('turns concurrent `bo backup now` requests for one job into exactly one run', async () => {
    if (!sshd || !bucket) return;
    const e = await env();
    e.write({
      ...base(e),
      hosts: { files1: sshd.hostConfig() },
      storage: { s3: bucket.config },
      jobs: { once: { host: 'files1', paths: [e.src], storage: 's3', before: ['sleep 4'] } },
    });
    const d = await daemon(e);
    // Six people type `bo backup now once` at the same moment: one run, everyone follows it.
    const results = await Promise.all(
      Array.from({ length: 6 }, () => runBo(['--config', e.cfg, 'backup', 'now', 'once', '--json'])),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    type Out = { jobs: Array<{ result: { backupId: string } }> };
    const ids = new Set(results.map((r) => (JSON.parse(r.stdout) as Out).jobs[0]!.result.backupId));
    expect(ids.size).toBe(1);
    expect(e.runs('once')).toMatchObject([{ outcome: 'ok', job: 'once', trigger: 'manual', host: 'files1' }]);
    expect(await s3Manifests(bucket, 'once')).toEqual([...ids]);
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });

  it('kill -9 mid-run, then restart: the run is marked abandoned and the job runs again', async () => {
    if (!sshd || !bucket) return;
    const e = await env();
    const config = (extra: Record<string, unknown>) => ({
      ...base(e),
      hosts: { files1: sshd!.hostConfig() },
      storage: { s3: bucket!.config },
      jobs: { slow: { host: 'files1', paths: [e.src], storage: 's3', schedule: '0 0 1 1 *', ...extra } },
    });
    const hook = markedSleep(20);
    e.write(config({ before: [hook.command] }));
    const first = await daemon(e);
    const { runId } = await (await connectDaemon(e.socket))!.enqueue('slow');
    await waitUntil(hook.running, 'the before hook to run on the SSH host');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(e.runs('slow')).toMatchObject([{ id: runId, outcome: undefined }]);

    e.write(config({})); // full speed now
    const second = await daemon(e);
    await second.waitFor(
      (l) => l.msg === 'Run abandoned: bo stopped while it was in progress' && l.runId === runId,
    );
    await second.waitFor(runEnded('slow'));
    const runs = e.runs('slow');
    expect(runs).toMatchObject([
      { id: runId, outcome: 'abandoned', trigger: 'manual' },
      { trigger: 'catch-up', outcome: 'ok', host: 'files1' },
    ]);
    expect(await s3Manifests(bucket, 'slow')).toEqual([runs[1]!.backupId]);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('logs a lost SSH connection with the run it broke', async () => {
    if (!sshd) return;
    // a TCP hop between bo and sshd that the test can cut
    const conns = new Set<Socket>();
    const hop = createServer((c) => {
      const up = connect(sshd!.port, '127.0.0.1');
      conns.add(c).add(up);
      c.pipe(up).pipe(c);
      for (const s of [c, up]) s.on('error', () => {});
    });
    await new Promise<void>((r) => hop.listen(0, '127.0.0.1', r));
    onCleanUp(() => new Promise<void>((r) => hop.close(() => r())));
    const e = await env();
    const hook = markedSleep(20);
    e.write({
      ...base(e),
      hosts: { files1: { ...sshd.hostConfig(), port: (hop.address() as { port: number }).port } },
      jobs: { drop: { host: 'files1', paths: [e.src], storage: 'repo', before: [hook.command] } },
    });
    const d = await daemon(e);
    const { runId } = await (await connectDaemon(e.socket))!.enqueue('drop');
    await waitUntil(hook.running, 'the before hook to run on the SSH host');
    for (const s of conns) s.destroy();
    const lost = await d.waitFor((l) => l.msg === 'SSH connection lost');
    expect(lost).toMatchObject({ runId, job: 'drop', host: 'files1' });
    await d.waitFor(runEnded('drop'));
    for (const l of linesOfRun(d.logs, runId))
      expect(l, JSON.stringify(l)).toMatchObject({ runId, job: 'drop', host: 'files1' });
    expect(e.runs('drop')).toMatchObject([{ id: runId, outcome: 'failed' }]);
    expect(manifests(e.repo, 'drop')).toEqual([]);
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });

  it('a per-host limit of 1 serialises that host while other hosts run', async () => {
    if (!sshd) return;
    const e = await env();
    e.write({
      ...base(e, { concurrency: 4, perHostConcurrency: 1 }),
      hosts: { files1: sshd.hostConfig() },
      jobs: {
        s1: { host: 'files1', paths: [e.src], storage: 'repo', before: ['sleep 1'] },
        s2: { host: 'files1', paths: [e.src], storage: 'repo' },
        l1: { host: 'local', paths: [e.src], storage: 'repo' },
      },
    });
    const d = await daemon(e);
    const client = (await connectDaemon(e.socket))!;
    const ids = [];
    for (const j of ['s1', 's2', 'l1']) ids.push((await client.enqueue(j)).runId);
    const [r1, r2, l1] = await Promise.all(ids.map((id) => client.follow(id)));
    for (const r of [r1, r2, l1]) expect(r).toMatchObject({ outcome: 'ok' });
    // s2 was queued while s1 ran, and started only once s1 had finished
    expect(r2!.queuedAt < r1!.finishedAt!).toBe(true);
    expect(r2!.startedAt! >= r1!.finishedAt!).toBe(true);
    // the local job did not wait for files1
    expect(l1!.startedAt! < r1!.finishedAt!).toBe(true);
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });
});
