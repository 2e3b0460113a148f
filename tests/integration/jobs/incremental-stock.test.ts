/**
 * The README's stock-tool restores of an incremental chain, run as written (only the first line's
 * values replaced): from an S3 bucket (aws, age, zstd, tar) and from a filesystem repository
 * (zstd, tar), on a fresh directory, for a point in the middle of a chain and for its newest.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/archive/age/index.ts';
import { awsCli } from '../../fixtures/aws-cli.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { diffTrees, mutateTree, type Recorded, rng, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { readmeRecipe, runWithAws } from '../../fixtures/readme.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';

const skip =
  s3Missing() ??
  missing('aws CLI', awsCli() !== undefined, 'pip install awscli (into the moto venv)') ??
  missing('age, zstd and jq', ['age', 'zstd', 'jq'].every(hasCommand), 'Debian packages age zstd jq');

describe.skipIf(skip)('restoring an incremental chain without bo, as the README says', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-stock-'));
  const src = join(work, 'src');
  const keyFile = join(work, 'key.txt');
  const { identity, recipient } = generateIdentity();
  let bucket: TestBucket;
  const points: Array<{ s3: string; fs: string; tree: Map<string, Recorded> }> = [];

  beforeAll(async () => {
    bucket = await newBucket();
    writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
    const config = writeConfig({
      stateDir: join(work, 'state'),
      storage: {
        offsite: { ...bucket.config, prefix: 'bo/' },
        local: { type: 'filesystem', path: join(work, 'repo') },
      },
      jobs: {
        s3: { host: 'local', paths: [src], storage: 'offsite', encryption: { recipients: [recipient] } },
        fs: { host: 'local', paths: [src], storage: 'local' },
      },
    });
    mkdirSync(join(src, 'a/b'), { recursive: true });
    writeFileSync(join(src, 'a/one'), 'one');
    writeFileSync(join(src, 'a/b/two'), 'two');
    const random = rng(4242);
    for (let i = 0; i < 5; i++) {
      if (i > 0) await mutateTree(src, random, 6);
      const r = await runBo(['--config', config, 'backup', 'now', 's3', 'fs', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const [s3, fs] = (JSON.parse(r.stdout) as { jobs: Array<{ result: { backupId: string } }> }).jobs.map(
        (j) => j.result.backupId,
      );
      points.push({ s3: s3!, fs: fs!, tree: await snapshotTree(src) });
    }
  }, 300_000);
  afterAll(async () => {
    await bucket?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  for (const at of [2, 4]) {
    it(`from the bucket: aws s3 cp | age -d | zstd -d | tar -x --listed-incremental, archive by archive (point ${at})`, () => {
      const dest = join(work, `s3-${at}`);
      const script = readmeRecipe(
        's3-chain',
        `S3=s3://${bucket.name}/bo/s3 ID=${points[at]!.s3} KEY=${keyFile} DEST=${dest}`,
      );
      runWithAws(script, bucket.endpoint);
      return snapshotTree(join(dest, src)).then((got) =>
        expect(diffTrees(points[at]!.tree, got)).toEqual([]),
      );
    });

    it(`from a filesystem repository: zstd -d | tar -x --listed-incremental (point ${at})`, async () => {
      const dest = join(work, `fs-${at}`);
      const script = readmeRecipe(
        'fs-chain',
        `REPO=${join(work, 'repo/fs')} ID=${points[at]!.fs} DEST=${dest}`,
      );
      execFileSync('sh', ['-c', script]);
      expect(diffTrees(points[at]!.tree, await snapshotTree(join(dest, src)))).toEqual([]);
    });
  }

  it('bo restores any point of the chain on a fresh machine, from the bucket alone', async () => {
    // A new machine: a config that names only the bucket, no jobs, an empty state directory.
    const fresh = writeConfig({
      stateDir: join(work, 'fresh-state'),
      storage: { offsite: { ...bucket.config, prefix: 'bo/' } },
      jobs: {},
    });
    for (const at of [1, 4]) {
      const dest = join(work, `fresh-${at}`);
      const r = await runBo([
        '--config',
        fresh,
        'restore',
        `s3/${points[at]!.s3}`,
        '--to',
        dest,
        '-i',
        keyFile,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(diffTrees(points[at]!.tree, await snapshotTree(join(dest, src)))).toEqual([]);
    }
  });
});
