import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';

const skip = s3Missing(); // sshd: startSshd reports (or, under CI, fails) when it is missing

/** `bo drill --to-host` as a user runs it: a backup in S3 (moto) restored onto a server over real SSH. */
describe.skipIf(skip)('restore drill onto a host over SSH, from S3', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-drill-ssh-'));
  const src = join(work, 'src');
  const scratch = join(work, 'scratch'); // "on the server": sshd runs on this machine
  let sshd: SshdFixture | undefined;
  let bucket: TestBucket;
  let config: string;
  let backupId: string;
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);

  beforeAll(async () => {
    sshd = await startSshd();
    if (!sshd) return;
    bucket = await newBucket();
    mkdirSync(join(src, 'sub'), { recursive: true });
    mkdirSync(scratch);
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'sub', 'b.txt'), 'beta\n'.repeat(5000));
    config = writeConfig({
      stateDir: join(work, 'state'),
      hosts: { files1: sshd.hostConfig() },
      storage: { offsite: { ...bucket.config, prefix: 'bo/' } },
      jobs: { share: { host: 'files1', paths: [src], storage: 'offsite', compression: 'none' } },
    });
    const r = await bo('backup', 'now', 'share', '--json');
    expect(r.code, r.stderr).toBe(0);
    backupId = (JSON.parse(r.stdout) as { jobs: Array<{ result: { backupId: string } }> }).jobs[0]!.result
      .backupId;
  });
  afterAll(async () => {
    await sshd?.stop();
    await bucket?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('proves a good backup restorable on the host and removes the scratch copy', async (t) => {
    if (!sshd) return t.skip();
    const r = await bo('drill', 'share', '--to-host', `files1:${scratch}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^ok\\s+share/${backupId}\\s+restored 2 file\\(s\\).* to files1:${scratch}/bo-drill-share-\\w+, all matched the index.*scratch copy removed`,
      ),
    );
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('fails loudly on a flipped byte, and still removes the scratch copy', async (t) => {
    if (!sshd) return t.skip();
    const Key = `bo/share/${backupId}/archive.tar`;
    const got = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key }));
    const data = Buffer.from(await got.Body!.transformToByteArray());
    const at = data.indexOf('beta'); // inside b.txt's content: the tar still parses
    data[at]! ^= 0x01;
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));

    const r = await bo('drill', 'share', '--to-host', `files1:${scratch}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`^FAILED\\s+share/${backupId}\\s+restore drill failed: NOT proven restorable`, 'm'),
    );
    expect(r.stdout).toMatch(/archive\.tar is corrupted|does not match/);
    expect(r.stdout).not.toMatch(/WARNING: the scratch copy/);
    expect(readdirSync(scratch)).toEqual([]);
  });
});
