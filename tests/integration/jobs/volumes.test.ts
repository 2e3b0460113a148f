/**
 * No size cap: a backup larger than its storage's (small, for the test) volumeSize is stored in
 * volumes, restored and verified by bo, and restored by the README's stock-tool recipes: the
 * manifest-ordered `aws s3 cp` loop from the bucket, the glob `cat` in a filesystem repository
 * (the chain recipes, which restore a standalone full as a chain of one).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, parseIdentities } from '../../../src/archive/age/index.ts';
import { listJobBackups } from '../../../src/catalog/catalog.ts';
import { MANIFEST_VERSION } from '../../../src/catalog/manifest.ts';
import { restoreBackup } from '../../../src/jobs/restore.ts';
import { verifyBackup } from '../../../src/jobs/verify.ts';
import { silentLogger } from '../../../src/log.ts';
import { awsCli } from '../../fixtures/aws-cli.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { readmeRecipe, runWithAws } from '../../fixtures/readme.ts';
import { missing } from '../../fixtures/require.ts';
import { type BackupEnv, backupEnv } from './backup-env.ts';

const key = generateIdentity();
const identities = parseIdentities(key.identity);
const kinds = s3Missing() ? (['fs'] as const) : (['fs', 's3'] as const);

describe.each(kinds)('a backup larger than its volume size (%s)', (kind) => {
  let env: BackupEnv;
  let id: string;
  let keyFile: string;
  beforeAll(async () => {
    const storage = { volumeSize: '64KiB' };
    // The README's filesystem recipe is for plain archives, its S3 one for encrypted ones.
    const encryption = kind === 's3' ? { encryption: { recipients: [key.recipient] } } : {};
    env = await backupEnv(kind, {
      jobs: { files: encryption },
      ...(kind === 's3' ? { s3: storage } : { fs: storage }),
    });
    writeFileSync(join(env.src, 'big.bin'), randomBytes(400 * 1024)); // incompressible: ~7 volumes
    keyFile = join(env.work, 'key.txt');
    writeFileSync(keyFile, `${key.identity}\n`);
    id = await env.backup('files');
  });
  afterAll(() => env?.cleanup());

  const ref = async () => (await listJobBackups(env.storage, 'files', { full: true })).backups.at(-1)!;

  it('is stored in volumes of at most volumeSize, listed in a version-3 manifest', async () => {
    const { manifest } = await ref();
    expect(manifest.version).toBe(MANIFEST_VERSION);
    const vols = manifest.archive.volumes!;
    expect(vols.length).toBeGreaterThanOrEqual(6);
    const name = kind === 's3' ? 'archive.tar.zst.age' : 'archive.tar.zst';
    expect(vols[0]!.key).toBe(name);
    expect(vols[1]!.key).toBe(`${name}.00002`);
    expect(vols.every((v) => v.size <= 64 * 1024)).toBe(true);
    expect(vols.reduce((n, v) => n + v.size, 0)).toBe(manifest.archive.size);
    expect(manifest.index.volumes).toBeUndefined(); // small objects stay one object
  });

  it('restores exactly and verifies with bo', async () => {
    const dest = join(env.work, 'restore-bo');
    const r = await restoreBackup({
      storage: env.storage,
      ref: await ref(),
      target: { kind: 'local', dir: dest },
      identities,
      signal: new AbortController().signal,
      log: silentLogger(),
    });
    expect(r.files).toBe(4);
    expect(diffTrees(await snapshotTree(env.src), await snapshotTree(join(dest, env.src)))).toEqual([]);
    const v = await verifyBackup(env.storage, await ref(), {
      identities,
      signal: new AbortController().signal,
    });
    expect(v.problems).toEqual([]);
    expect(v.status).toBe('ok');
  });

  it("restores with the README's stock-tool recipe, which reads the volumes in order", async (ctx) => {
    const dest = join(env.work, 'restore-stock');
    if (kind === 'fs') {
      execFileSync('sh', [
        '-c',
        readmeRecipe('fs-chain', `REPO=${join(env.work, 'repo', 'files')} ID=${id} DEST=${dest}`),
      ]);
    } else {
      if (missing('aws CLI', awsCli() !== undefined, 'pip install awscli (into the moto venv)'))
        return ctx.skip();
      const first = `S3=s3://${env.bucket!.name}/bo/files ID=${id} KEY=${keyFile} DEST=${dest}`;
      runWithAws(readmeRecipe('s3-chain', first), env.bucket!.endpoint);
    }
    expect(diffTrees(await snapshotTree(env.src), await snapshotTree(join(dest, env.src)))).toEqual([]);
  });
});
