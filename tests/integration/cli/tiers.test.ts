/**
 * A copy in an archive tier (storageClass GLACIER), with the real `bo` and a private moto (its
 * restore timing is a server-wide setting). moto restores an archived object the moment it is
 * asked to, unless its state manager says otherwise: here restores take 2 s ("time"
 * progression), so bo is seen waiting for one. A drill says plainly that it cannot run.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo } from '../../fixtures/bo.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { motoCommand, type S3Server, startMoto } from '../../fixtures/s3-server.ts';
import { type CopyEnv, copyEnv } from '../jobs/copy-env.ts';

const skip = s3Missing() ?? (motoCommand() ? undefined : 'needs moto (a private server)');

async function restoresTake(server: S3Server, seconds: number): Promise<void> {
  const res = await fetch(`${server.endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 's3::keyrestore', transition: { progression: 'time', seconds } }),
  });
  expect(res.status).toBe(201);
}

describe.skipIf(skip)('a copy in an archive tier', () => {
  let cold: S3Server;
  let env: CopyEnv;
  let config: string;
  beforeAll(async () => {
    cold = await startMoto(motoCommand()!);
    env = await copyEnv({
      cold,
      jobs: { files: { copies: ['cold'] } },
      storage: { cold: { storageClass: 'GLACIER' } },
    });
    config = env.configFile();
  });
  afterAll(async () => {
    await env?.cleanup();
    await cold?.stop();
  });

  it('a drill (and a verify) says plainly that it cannot run without a tier restore', async () => {
    const { id } = await env.backup('files');
    const r = await runBo(['-c', config, 'drill', 'files', '--from', 'cold']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `drill of files/${id} cannot run without a tier restore: 1 object\\(s\\) in storage cold are in GLACIER.*bo restore files/${id} --from cold`,
      ),
    );
    const v = await runBo(['-c', config, 'verify', 'files', '--from', 'cold']);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(
      /verify of files\/.* cannot run without a tier restore: 1 object\(s\) in storage cold are in GLACIER/,
    );
    // The primary, not in a tier, drills as usual.
    expect((await runBo(['-c', config, 'drill', 'files'])).code).toBe(0);
  });

  it('restore --no-wait requests the tier restore and says when to come back', async () => {
    const r = await runBo([
      '-c',
      config,
      'restore',
      'files',
      '--from',
      'cold',
      '--no-wait',
      '--to',
      join(env.work, 'n'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /requested a tier restore of 1 object\(s\) from GLACIER in storage cold \(Standard retrieval, typically 3–5 hours/,
    );
    const listed: string[] = [];
    for await (const o of env.storage('cold').list('files/'))
      if (o.key.endsWith('archive.tar.zst')) listed.push(o.key);
    expect((await env.storage('cold').stat(listed[0]!))?.tier?.state).not.toBe('archived');
  });

  it('restore requests the tier restore, waits until S3 has made the archive readable, then restores', async () => {
    await restoresTake(cold, 2);
    await env.backup('files');
    await new Promise((r) => setTimeout(r, 2500)); // moto counts the first 2 s from the object's creation
    const dest = join(env.work, 'r');
    const r = await runBo(
      ['-c', config, 'restore', 'files', '--from', 'cold', '--tier-poll', '500ms', '--to', dest],
      {
        env: { BO_LOG_LEVEL: 'info' },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Tier restore requested/);
    expect(r.stderr).toMatch(/Waiting for the tier restore/);
    expect(r.stderr).toMatch(/Tier restore finished/);
    expect(diffTrees(await snapshotTree(env.src), await snapshotTree(join(dest, env.src)))).toEqual([]);
  });
});
