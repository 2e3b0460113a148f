/**
 * The real daemon (`node bin/bo --config X daemon`) as a child process, with real backups of a
 * local tree into filesystem storage, a real S3-compatible server and a real sshd.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { listRuns, type RunRecord } from '../../../src/catalog/runs.ts';
import { connectDaemon } from '../../../src/daemon/client.ts';
import type { StatusReport } from '../../../src/daemon/status.ts';
import { runBo } from '../../fixtures/bo.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { type DaemonProc, slowTarDir, spawnDaemon } from './daemon-proc.ts';

const MiB = 1024 * 1024;

interface Env {
  dir: string;
  src: string;
  cfg: string;
  socket: string;
  stateDir: string;
  repo: string;
  write(config: Record<string, unknown>): void;
  runs(job?: string): RunRecord[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function env(opts: { bigFile?: number } = {}): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'bo-daemon-'));
  const src = join(dir, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'alpha\n');
  await writeFile(join(src, 'sub', 'b.txt'), 'beta\n'.repeat(100));
  if (opts.bigFile) await writeFile(join(src, 'big.bin'), randomBytes(opts.bigFile));
  const e: Env = {
    dir,
    src,
    cfg: join(dir, 'bo.yaml'),
    socket: join(dir, 'bo.sock'),
    stateDir: join(dir, 'state'),
    repo: join(dir, 'repo'),
    write: (config) => writeFileSync(e.cfg, stringify(config)),
    runs(job) {
      const db = new DatabaseSync(join(e.stateDir, 'state.db'), { readOnly: true });
      try {
        return listRuns(db, { job }).reverse();
      } finally {
        db.close();
      }
    },
  };
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return e;
}

function base(e: Env, daemon: Record<string, unknown> = {}) {
  return {
    stateDir: e.stateDir,
    daemon: { socket: e.socket, http: { listen: '127.0.0.1:0' }, ...daemon },
    storage: { repo: { type: 'filesystem', path: e.repo } },
  };
}

const localJob = (e: Env, extra: Record<string, unknown> = {}) => ({
  host: 'local',
  paths: [e.src],
  storage: 'repo',
  compression: 'none',
  ...extra,
});

async function daemon(e: Env, extraEnv: NodeJS.ProcessEnv = {}): Promise<DaemonProc> {
  const d = await spawnDaemon(e.cfg, extraEnv);
  cleanups.push(async () => {
    if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await d.exited;
  });
  return d;
}

const finished = (job: string) => (l: Record<string, unknown>) =>
  l.job === job && (l.msg === 'Run finished' || l.msg === 'Run failed' || l.msg === 'Run cancelled');

function manifests(repo: string, job: string): string[] {
  const dir = join(repo, job);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((id) => existsSync(join(dir, id, 'manifest.json')));
}

describe('bo daemon', () => {
  it('runs a job scheduled every few seconds, records it, and bo status / bo jobs show it', async () => {
    const e = await env();
    e.write({ ...base(e), jobs: { tick: localJob(e, { schedule: '*/2 * * * * *' }) } });
    const d = await daemon(e);
    await d.waitFor((l) => l.msg === 'Run finished' && l.job === 'tick');

    const status = await runBo(['--config', e.cfg, 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(report.source).toBe('daemon');
    expect(report.jobs[0]).toMatchObject({
      job: 'tick',
      kind: 'backup',
      host: 'local',
      lastRun: { outcome: 'ok' },
    });
    expect(report.jobs[0]?.nextRunAt).toBeDefined();
    const text = await runBo(['--config', e.cfg, 'status']);
    expect(text.stdout).toMatch(/^tick\s+backup\s+local\s+.*ok \d+s ago/m); // maybe "RUNNING … (before: ok 1s ago)"
    const jobs = await runBo(['--config', e.cfg, 'jobs', '--json']);
    expect(JSON.parse(jobs.stdout)).toMatchObject({
      source: 'daemon',
      jobs: [{ job: 'tick', schedule: '*/2 * * * * *' }],
    });

    // the health area's page and the scheduler's metrics, on a free loopback port
    const page = String((await d.waitFor((l) => l.msg === 'HTTP status page listening')).url);
    expect(await (await fetch(new URL('healthz', page))).text()).toBe('ok\n');
    expect(await (await fetch(new URL('metrics', page))).text()).toMatch(
      /^bo_runs_total\{job="tick",kind="backup",outcome="ok"\} [1-9]/m,
    );

    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    const runs = e.runs('tick').filter((r) => r.outcome === 'ok');
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs[0]).toMatchObject({
      trigger: 'schedule',
      kind: 'backup',
      host: 'local',
      files: expect.any(Number),
    });
    expect(manifests(e.repo, 'tick')).toContain(runs[0]!.backupId);
    // every log line of a run names the run, its job and its host
    const runLines = d.logs.filter((l) => l.runId !== undefined);
    expect(runLines.length).toBeGreaterThan(0);
    for (const l of runLines) expect(l).toMatchObject({ job: 'tick', host: 'local' });

    const offline = await runBo(['--config', e.cfg, 'status', '--json']);
    expect(JSON.parse(offline.stdout)).toMatchObject({
      source: 'state-db',
      jobs: [{ job: 'tick', lastRun: { outcome: 'ok' } }],
    });
  });

  it('turns concurrent requests for one job into exactly one run', async () => {
    const e = await env({ bigFile: 2 * MiB });
    e.write({ ...base(e), jobs: { once: localJob(e) } });
    const d = await daemon(e, { PATH: `${slowTarDir(e.dir, 2 * MiB)}:${process.env.PATH}` });
    // Six people type `bo backup now once` at the same moment: one run, everyone follows it.
    const results = await Promise.all(
      Array.from({ length: 6 }, () => runBo(['--config', e.cfg, 'backup', 'now', 'once', '--json'])),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const ids = new Set(
      results.map(
        (r) =>
          (JSON.parse(r.stdout) as { jobs: Array<{ result: { backupId: string } }> }).jobs[0]!.result
            .backupId,
      ),
    );
    expect(ids.size).toBe(1);
    const runs = e.runs('once');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ outcome: 'ok', job: 'once', trigger: 'manual' });
    expect(manifests(e.repo, 'once')).toEqual([...ids]);
    const detached = await runBo(['--config', e.cfg, 'backup', 'now', 'once', '--detach']);
    expect(detached.code).toBe(0);
    expect(detached.stdout).toMatch(/once: run \S+ (queued|already queued or running)/);
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });

  it('SIGHUP with a broken config keeps the daemon on the old config; a good one applies without dropping runs', async () => {
    const e = await env({ bigFile: 2 * MiB });
    const good = { ...base(e), jobs: { a: localJob(e) } };
    e.write(good);
    const d = await daemon(e, { PATH: `${slowTarDir(e.dir, 2 * MiB)}:${process.env.PATH}` });
    const client = (await connectDaemon(e.socket))!;
    const { runId } = await client.enqueue('a');
    await d.waitFor((l) => l.msg === 'Run started' && l.runId === runId);

    writeFileSync(
      e.cfg,
      stringify({ ...good, jobs: { a: { ...localJob(e), storage: 'nowhere', schedule: 'every day' } } }),
    );
    d.child.kill('SIGHUP');
    const rejected = await d.waitFor(
      (l) => l.msg === 'Config reload rejected; the running config stays in force',
    );
    const problems = rejected.problems as Array<{ path: string }>;
    expect(problems.map((p) => p.path).sort()).toEqual(['jobs.a.schedule', 'jobs.a.storage']);
    expect((await client.jobs()).map((j) => j.job)).toEqual(['a']);

    e.write({ ...good, jobs: { a: localJob(e), b: localJob(e, { schedule: '0 3 * * *' }) } });
    d.child.kill('SIGHUP');
    await d.waitFor((l) => l.msg === 'Config reloaded');
    expect((await client.jobs()).map((j) => j.job)).toEqual(['a', 'b']);
    expect(await client.follow(runId)).toMatchObject({ outcome: 'ok' });
    expect(d.child.exitCode).toBeNull();
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });

  it('kill -9 mid-run, then restart: the run is marked abandoned and the job runs again', async () => {
    const e = await env({ bigFile: 4 * MiB });
    e.write({ ...base(e), jobs: { slow: localJob(e, { schedule: '0 0 1 1 *' }) } });
    const path = `${slowTarDir(e.dir, 1 * MiB)}:${process.env.PATH}`;
    const first = await daemon(e, { PATH: path });
    const { runId } = await (await connectDaemon(e.socket))!.enqueue('slow');
    await first.waitFor((l) => l.msg === 'Run started' && l.runId === runId);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(e.runs('slow')).toMatchObject([{ id: runId, outcome: undefined }]);

    e.write({ ...base(e), jobs: { slow: localJob(e, { schedule: '0 0 1 1 *' }) } });
    const second = await daemon(e); // full speed now
    await second.waitFor(
      (l) => l.msg === 'Run abandoned: bo stopped while it was in progress' && l.runId === runId,
    );
    await second.waitFor(finished('slow'));
    const runs = e.runs('slow');
    expect(runs).toMatchObject([
      { id: runId, outcome: 'abandoned', trigger: 'manual' },
      { trigger: 'catch-up', outcome: 'ok' },
    ]);
    expect(manifests(e.repo, 'slow')).toEqual([runs[1]!.backupId]);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});

describe('bo daemon with S3 storage', () => {
  let bucket: TestBucket | undefined;
  afterAll(async () => bucket?.destroy());

  it('SIGTERM mid-backup: cancels after the grace period, exits 0, leaves no manifest and no multipart upload', async () => {
    if (s3Missing()) return;
    bucket = await newBucket({ prefix: 'bo/' });
    const e = await env({ bigFile: 24 * MiB });
    e.write({
      ...base(e, { shutdownGrace: 1 }),
      storage: { s3: bucket.config },
      jobs: { big: { host: 'local', paths: [e.src], storage: 's3', compression: 'none' } },
    });
    const d = await daemon(e, { PATH: `${slowTarDir(e.dir, 3 * MiB)}:${process.env.PATH}` });
    const { runId } = await (await connectDaemon(e.socket))!.enqueue('big');
    const b = bucket;
    const uploads = async () =>
      (await b.client.send(new ListMultipartUploadsCommand({ Bucket: b.name }))).Uploads ?? [];
    for (let i = 0; i < 200 && (await uploads()).length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await uploads()).toHaveLength(1); // mid-upload: a multipart upload is open

    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(
      d.logs.some((l) => l.msg === 'Cancelling running jobs: the shutdown grace period is over'),
      JSON.stringify(d.logs, null, 1),
    ).toBe(true);
    expect(e.runs('big')).toMatchObject([{ id: runId, outcome: 'cancelled' }]);
    expect(await uploads()).toEqual([]);
    const objects = (await b.client.send(new ListObjectsV2Command({ Bucket: b.name }))).Contents ?? [];
    expect(objects.filter((o) => o.Key?.endsWith('manifest.json'))).toEqual([]);
  });
});

describe('bo daemon with an SSH host', () => {
  let sshd: SshdFixture | undefined;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => sshd?.stop());

  it('a per-host limit of 1 serialises that host while other hosts run', async () => {
    if (!sshd) return;
    const e = await env({ bigFile: 2 * MiB });
    e.write({
      ...base(e, { concurrency: 4, perHostConcurrency: 1 }),
      hosts: { files1: sshd.hostConfig() },
      jobs: {
        s1: { host: 'files1', paths: [e.src], storage: 'repo' },
        s2: { host: 'files1', paths: [e.src], storage: 'repo' },
        l1: localJob(e),
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
