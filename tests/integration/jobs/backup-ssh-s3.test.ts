import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/archive/age/index.ts';
import { awsCli } from '../../fixtures/aws-cli.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { compareTrees, makeFidelityTree } from '../../fixtures/tree.ts';

const skip =
  s3Missing() ??
  missing('age and zstd CLIs', hasCommand('age') && hasCommand('zstd'), 'Debian packages age zstd');

/** The spine end to end: a real sshd, a real S3-compatible server, the real `bo` executable. */
describe.skipIf(skip)('backup over SSH into S3 and restore', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-e2e-'));
  const src = join(work, 'src');
  const keyFile = join(work, 'identity.txt');
  const { identity, recipient } = generateIdentity();
  let sshd: SshdFixture;
  let bucket: TestBucket;
  let config: string;
  let backupId: string;
  const cfg = (extra: { hosts?: object; storage?: object; jobs?: object } = {}) =>
    writeConfig({
      stateDir: join(work, 'state'),
      storage: { offsite: { ...bucket.config, prefix: 'bo/' }, ...extra.storage },
      hosts: { files1: sshd.hostConfig(), ...extra.hosts },
      jobs: {
        share: { host: 'files1', paths: [src], storage: 'offsite', encryption: { recipients: [recipient] } },
        ...extra.jobs,
      },
    });
  const bo = (args: string[], config0 = config) => runBo(['--config', config0, ...args]);

  beforeAll(async () => {
    sshd = (await startSshd())!;
    bucket = await newBucket();
    mkdirSync(src);
    await makeFidelityTree(src);
    writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
    config = cfg();
    const r = await bo(['backup', 'now', 'share', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    backupId = (JSON.parse(r.stdout) as { jobs: Array<{ result: { backupId: string } }> }).jobs[0]!.result
      .backupId;
  });
  afterAll(async () => {
    await sshd?.stop();
    await bucket?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('stores archive, index and manifest under <prefix><job>/<id>/, manifest describing everything', async () => {
    const listed = await bucket.client.send(
      new ListObjectsV2Command({ Bucket: bucket.name, Prefix: 'bo/share/' }),
    );
    const keys = (listed.Contents ?? []).map((o) => o.Key!.replace(`bo/share/${backupId}/`, '')).sort();
    expect(keys).toEqual(['archive.tar.zst.age', 'index.jsonl.zst.age', 'manifest.json']);
    const body = await bucket.client.send(
      new GetObjectCommand({ Bucket: bucket.name, Key: `bo/share/${backupId}/manifest.json` }),
    );
    const m = JSON.parse(await body.Body!.transformToString());
    expect(m).toMatchObject({
      format: 'bo-backup',
      job: 'share',
      host: 'files1',
      hostAddress: '127.0.0.1',
      paths: [src],
      compression: 'zstd',
      encryption: { type: 'age', recipients: [recipient] },
      archive: { key: 'archive.tar.zst.age' },
    });
    expect(m.stats.files).toBeGreaterThan(10);
  });

  it('lists backups from the bucket alone and shows the index with the identity', async () => {
    const list = JSON.parse((await bo(['list', '--json'])).stdout) as {
      backups: Array<{ id: string; encrypted: boolean }>;
    };
    expect(list.backups).toEqual([expect.objectContaining({ id: backupId, encrypted: true })]);
    const noKey = await bo(['ls', 'share']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/encrypted; pass --identity/);
    const ls = await bo(['ls', 'share', join(src, 'modes'), '-i', keyFile]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/-rwsr-xr-x .*modes\/setuid/);
  });

  it('restores locally, byte for byte, with modes, mtimes, links, sparseness and xattrs', async () => {
    const dest = join(work, 'restore-local');
    const r = await bo(['restore', 'share', '--to', dest, '-i', keyFile]);
    // Nothing to warn about: a local restore applies xattrs too.
    expect(r.stderr.trim()).toBe('');
    expect(r.code).toBe(0);
    expect(await compareTrees(src, join(dest, src), { sparse: true, owners: true, xattrs: true })).toEqual(
      [],
    );
  });

  it('restores onto a server with its own tar, xattrs included', async () => {
    const dest = join(work, 'restore-remote');
    const r = await bo(['restore', `share/${backupId}`, '--to-host', `files1:${dest}`, '-i', keyFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await compareTrees(src, join(dest, src), { sparse: true, owners: true, xattrs: true })).toEqual(
      [],
    );
  });

  it('restores from the bucket with standard tools only: aws s3 cp | age -d | zstd -d | tar -x', async (ctx) => {
    const aws = awsCli();
    if (missing('aws CLI', aws !== undefined, 'pip install awscli (into the moto venv)')) return ctx.skip();
    const dest = join(work, 'restore-no-bo');
    mkdirSync(dest);
    const url = `s3://${bucket.name}/bo/share/${backupId}/archive.tar.zst.age`;
    execFileSync(
      'sh',
      ['-c', `"$AWS" --endpoint-url "$EP" s3 cp "$URL" - | age -d -i "$KEY" | zstd -d | tar -x -C "$DEST"`],
      {
        env: {
          ...process.env,
          AWS: aws!,
          EP: bucket.endpoint,
          URL: url,
          KEY: keyFile,
          DEST: dest,
          AWS_ACCESS_KEY_ID: process.env.BO_TEST_S3_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: process.env.BO_TEST_S3_SECRET_ACCESS_KEY,
          AWS_DEFAULT_REGION: 'us-east-1',
        },
      },
    );
    expect(await compareTrees(src, join(dest, src), { owners: true })).toEqual([]);
  });

  it('refuses a wrong identity and a corrupted or truncated archive, loudly', async () => {
    const other = join(work, 'other.txt');
    writeFileSync(other, `${generateIdentity().identity}\n`);
    const wrong = await bo(['restore', 'share', '--to', join(work, 'w1'), '-i', other]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/none of the given identities can decrypt/);

    const key = `bo/share/${backupId}/archive.tar.zst.age`;
    const original = Buffer.from(
      await (
        await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }))
      ).Body!.transformToByteArray(),
    );
    try {
      const flipped = Buffer.from(original);
      flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
      await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: flipped }));
      const corrupt = await bo(['restore', 'share', '--to', join(work, 'w2'), '-i', keyFile]);
      expect(corrupt.code).toBe(1);
      expect(corrupt.stderr).toMatch(/restore FAILED: .*(corrupted|authentication failed)/);
      expect(corrupt.stderr).not.toMatch(/\n\s+at /);

      await bucket.client.send(
        new PutObjectCommand({
          Bucket: bucket.name,
          Key: key,
          Body: original.subarray(0, original.length - 1000),
        }),
      );
      const truncated = await bo(['restore', 'share', '--to', join(work, 'w3'), '-i', keyFile]);
      expect(truncated.code).toBe(1);
      expect(truncated.stderr).toMatch(/restore FAILED: .*truncated/);
    } finally {
      await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: original }));
    }
  });

  it('refuses a changed host key, an unknown host key, a wrong client key and an unreachable host', async () => {
    const wrongPin = cfg({
      hosts: {
        files1: { ...sshd.hostConfig(), hostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      },
    });
    const changed = await bo(['backup', 'now', 'share'], wrongPin);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain(sshd.hostKeyFingerprint);
    expect(changed.stdout).toMatch(/MISMATCH/i);

    const { hostKey: _pin, ...unpinned } = sshd.hostConfig();
    const unknown = await bo(
      ['backup', 'now', 'share'],
      cfg({ hosts: { files1: { ...unpinned, knownHosts: join(work, 'empty_known_hosts') } } }),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain(sshd.hostKeyFingerprint);
    expect(unknown.stdout).toMatch(/not trusted/);
    expect(unknown.stdout).toMatch(/bo hosts trust files1/);

    const otherKey = join(work, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const badKey = await bo(
      ['backup', 'now', 'share'],
      cfg({ hosts: { files1: { ...sshd.hostConfig(), privateKey: otherKey } } }),
    );
    expect(badKey.code).toBe(1);
    expect(badKey.stdout).toMatch(/authentication failed/);

    const down = await bo(
      ['backup', 'now', 'share'],
      cfg({ hosts: { files1: { ...sshd.hostConfig(), port: 1, connectTimeout: '3s' } } }),
    );
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/cannot reach files1/);
    const listed = await bucket.client.send(
      new ListObjectsV2Command({ Bucket: bucket.name, Prefix: 'bo/share/' }),
    );
    expect((listed.Contents ?? []).filter((o) => o.Key!.endsWith('manifest.json'))).toHaveLength(1);
  });

  it('fails clearly on a missing path and a missing bucket, leaving nothing behind', async () => {
    const missingPath = await bo(
      ['backup', 'now', 'gone'],
      cfg({ jobs: { gone: { host: 'files1', paths: [join(work, 'nope')], storage: 'offsite' } } }),
    );
    expect(missingPath.code).toBe(1);
    expect(missingPath.stdout).toMatch(/nope does not exist on files1/);
    const noBucket = await bo(
      ['backup', 'now', 'lost'],
      cfg({
        storage: { void: { ...bucket.config, bucket: `${bucket.name}-missing` } },
        jobs: { lost: { host: 'files1', paths: [join(src, 'modes')], storage: 'void' } },
      }),
    );
    expect(noBucket.code).toBe(1);
    expect(noBucket.stdout).toMatch(/does not exist/);
    const listed = await bucket.client.send(
      new ListObjectsV2Command({ Bucket: bucket.name, Prefix: 'bo/gone/' }),
    );
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('Ctrl-C mid-upload exits 130 and leaves no manifest, no objects and no incomplete upload', async () => {
    const bigDir = join(work, 'big');
    mkdirSync(bigDir);
    execFileSync('sh', ['-c', `head -c 400000000 /dev/urandom > ${bigDir}/random.bin`]);
    const c = cfg({
      jobs: { big: { host: 'files1', paths: [bigDir], storage: 'offsite', compression: 'none' } },
    });
    let kill: ((s: NodeJS.Signals) => void) | undefined;
    let exited = false;
    const run = runBo(['--config', c, 'backup', 'now', 'big'], { onSpawn: (_pid, k) => (kill = k) });
    const ended = () => {
      exited = true;
    };
    run.then(ended, ended);
    // Interrupt only once a multipart upload is visible in the bucket: otherwise the test would
    // pass without having cancelled anything mid-upload.
    let uploading = false;
    while (!uploading && !exited) {
      const u = await bucket.client.send(
        new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: 'bo/big/' }),
      );
      uploading = (u.Uploads ?? []).length > 0;
      if (!uploading) await new Promise((r) => setTimeout(r, 50));
    }
    expect(uploading, 'no multipart upload was visible before the backup ended').toBe(true);
    kill!('SIGINT');
    const r = await run;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/cancel/i);
    const listed = await bucket.client.send(
      new ListObjectsV2Command({ Bucket: bucket.name, Prefix: 'bo/big/' }),
    );
    expect(listed.Contents ?? []).toEqual([]);
    const uploads = await bucket.client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: 'bo/big/' }),
    );
    expect(uploads.Uploads ?? []).toEqual([]);
    rmSync(bigDir, { recursive: true });
  });
});
