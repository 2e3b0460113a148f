/**
 * The real daemon (`node bin/bo --config X daemon`) as a child process: signals and shutdown,
 * with local backups (filesystem and S3 storage). The scheduled, exactly-once and kill -9 tests
 * against sshd and S3 are in daemon-remote.test.ts.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectDaemon } from '../../../src/daemon/client.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { base, cleanUp, daemon, env, localJob, MiB, manifests } from './daemon-env.ts';
import { slowTarDir } from './daemon-proc.ts';

afterEach(cleanUp);

/** Files anywhere under `dir` whose name marks an unfinished write. */
function tempFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    f.split('/').pop()!.startsWith('.bo-tmp-'),
  );
}

describe('bo daemon', () => {
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

  it('SIGHUP after the config was truncated to 0 bytes or emptied keeps the old config and its schedules', async () => {
    const e = await env();
    e.write({ ...base(e), jobs: { a: localJob(e, { schedule: '0 3 * * *' }) } });
    const d = await daemon(e);
    const client = (await connectDaemon(e.socket))!;
    const rejected = () =>
      d.logs.filter((l) => l.msg === 'Config reload rejected; the running config stays in force');
    for (const [i, text] of ['', '# jobs: {}\n', '---\n'].entries()) {
      writeFileSync(e.cfg, text);
      d.child.kill('SIGHUP');
      await d.waitFor(() => rejected().length === i + 1);
      expect(rejected()[i]).toMatchObject({
        level: 50,
        problems: [{ path: '', message: expect.stringMatching(/^the config is empty/) }],
      });
      expect((await client.jobs()).map((j) => j.job)).toEqual(['a']);
    }
    expect(d.logs.filter((l) => l.msg === 'Config reloaded')).toEqual([]);
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });

  it('ignores SIGHUP during the shutdown grace: the run still ends, is recorded, and leaves no temp files', async () => {
    const e = await env({ bigFile: 3 * MiB });
    e.write({ ...base(e, { shutdownGrace: '1s' }), jobs: { slow: localJob(e) } });
    const d = await daemon(e, { PATH: `${slowTarDir(e.dir, 1 * MiB)}:${process.env.PATH}` });
    const { runId } = await (await connectDaemon(e.socket))!.enqueue('slow');
    await d.waitFor((l) => l.msg === 'Run started' && l.runId === runId);
    d.child.kill('SIGTERM');
    await d.waitFor((l) => l.msg === 'Waiting for running jobs to finish');
    d.child.kill('SIGHUP');
    await d.waitFor((l) => l.msg === 'SIGHUP ignored: the daemon is stopping');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.logs.at(-1)?.msg).toBe('Daemon stopped');
    expect(e.runs('slow')).toMatchObject([{ id: runId, outcome: 'cancelled' }]);
    expect(manifests(e.repo, 'slow')).toEqual([]);
    expect(tempFiles(e.repo)).toEqual([]);
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
