/**
 * Copies through the real `bo` executable: bo list names every storage holding a backup, a
 * `bo copy` killed with SIGKILL leaves no manifest and its next run completes it (keeping what
 * the dead run had verified, aborting the upload it left), and restores fall back to a copy
 * when the primary bucket is gone or an object in it is corrupted.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/archive/age/index.ts';
import { manifestKey } from '../../../src/storage/layout.ts';
import { runBo } from '../../fixtures/bo.ts';
import { s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { motoCommand, type S3Server, startMoto } from '../../fixtures/s3-server.ts';
import { type CopyEnv, copyEnv } from '../jobs/copy-env.ts';
import { readAll } from '../storage/contract.ts';

const skip = s3Missing() ?? (motoCommand() ? undefined : 'needs moto for a second S3 endpoint');
const key = generateIdentity();
const MiB = 1024 * 1024;

async function uploads(b: TestBucket): Promise<string[]> {
  const r = await b.client.send(new ListMultipartUploadsCommand({ Bucket: b.name }));
  return (r.Uploads ?? []).map((u) => u.Key!);
}

describe.skipIf(skip)('copies with the bo executable', () => {
  let cold: S3Server;
  let env: CopyEnv | undefined;
  beforeAll(async () => {
    cold = await startMoto(motoCommand()!);
  });
  afterAll(async () => {
    await cold?.stop();
  });
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('a copy killed with SIGKILL leaves no manifest; the next run completes it', async () => {
    env = await copyEnv({
      cold,
      jobs: { files: {} },
      storage: { fast: { volumeSize: '6MiB' }, cold: { limits: { upload: '2MiB/s' } } },
    });
    writeFileSync(join(env.src, 'big.bin'), randomBytes(14 * MiB)); // three volumes: 6 + 6 + 2 MiB
    const { id } = await env.backup('files');
    const config = env.configFile();
    const cs = env.storage('cold');
    let killed = false;
    const first = await runBo(['-c', config, 'copy', 'files', '--to', 'cold'], {
      onSpawn: (_pid, kill) => {
        void (async () => {
          // Kill it once the first volume is stored and the second is a multipart upload under way.
          const deadline = Date.now() + 60_000;
          while (Date.now() < deadline) {
            const stored = await cs.stat(`files/${id}/archive.tar.zst`).catch(() => undefined);
            if (stored && (await uploads(env!.buckets.cold)).length > 0) {
              killed = true;
              kill('SIGKILL');
              return;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
      },
    });
    expect(killed).toBe(true);
    expect(first.signal).toBe('SIGKILL');
    expect(await cs.stat(manifestKey('files', id))).toBeUndefined(); // nothing looks like a backup
    expect(await uploads(env.buckets.cold)).toEqual([`bo/files/${id}/archive.tar.zst.00002`]);

    const second = await runBo(['-c', config, 'copy', 'files', '--to', 'cold', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const [report] = (
      JSON.parse(second.stdout) as { copies: Array<{ copied: Array<{ id: string; kept: number }> }> }
    ).copies;
    expect(report!.copied).toEqual([expect.objectContaining({ id, kept: 1 })]);
    expect(await uploads(env.buckets.cold)).toEqual([]);
    const manifest = manifestKey('files', id);
    expect(
      (await readAll(await cs.get(manifest))).equals(await readAll(await env.storage('fast').get(manifest))),
    ).toBe(true);
    const verify = await runBo(['-c', config, 'verify', 'files', '--from', 'cold']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('bo list names every storage that holds a backup', async () => {
    env = await copyEnv({ cold, jobs: { files: { copies: ['cold', 'nas'] } } });
    const { id } = await env.backup('files');
    const r = await runBo(['-c', env.configFile(), 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { backups: Array<{ id: string; storages: string[] }> }).backups;
    expect(rows).toEqual([expect.objectContaining({ id, storages: ['fast', 'cold', 'nas'] })]);
    const table = await runBo(['-c', env.configFile(), 'list']);
    expect(table.stdout).toMatch(new RegExp(`files/${id} .* fast, cold, nas`));
  });

  it('restores from a copy after the primary bucket is deleted: names the copy, or uses it with --from any', async () => {
    env = await copyEnv({
      cold,
      jobs: { files: { copies: ['cold', 'nas'], encryption: { recipients: [key.recipient] } } },
    });
    const { id } = await env.backup('files');
    const keyFile = join(env.work, 'key.txt');
    writeFileSync(keyFile, `${key.identity}\n`);
    const config = env.configFile();
    await env.buckets.fast.destroy();
    const restore = (dir: string, ...more: string[]) =>
      runBo(['-c', config, 'restore', 'files', '--to', join(env!.work, dir), '-i', keyFile, ...more]);

    const plain = await restore('r0');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/bucket .* does not exist/);
    expect(plain.stderr).toMatch(
      new RegExp(`job files is also in cold \\(newest there: ${id}\\), nas .*--from cold`),
    );

    for (const [dir, from] of [
      ['r1', 'cold'],
      ['r2', 'nas'],
      ['r3', 'any'],
    ] as const) {
      const r = await restore(dir, '--from', from);
      expect(r.code, r.stderr).toBe(0);
      if (from === 'any') expect(r.stderr).toMatch(/could not restore from fast: .*; used cold/);
      expect(r.stdout).toMatch(new RegExp(`restored files/${id} from ${from === 'any' ? 'cold' : from}`));
      expect(
        diffTrees(await snapshotTree(env.src), await snapshotTree(join(env.work, dir, env.src))),
      ).toEqual([]);
    }
  });

  it('a corrupted object in the primary: restore says which copy holds the backup, --from any uses it', async () => {
    env = await copyEnv({ cold, jobs: { files: { copies: ['nas'] } } });
    const { id } = await env.backup('files');
    const b = env.buckets.fast;
    const archive = `files/${id}/archive.tar.zst`;
    const bytes = await readAll(await env.storage('fast').get(archive));
    bytes[bytes.length >> 1]! ^= 0x01;
    await b.client.send(new PutObjectCommand({ Bucket: b.name, Key: `bo/${archive}`, Body: bytes }));
    const config = env.configFile();
    const bad = await runBo(['-c', config, 'restore', 'files', '--to', join(env.work, 'c1')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/restore FAILED: .*corrupted/);
    expect(bad.stderr).toMatch(new RegExp(`backup files/${id} is also in nas: add --from nas`));
    const any = await runBo([
      '-c',
      config,
      'restore',
      'files',
      '--to',
      join(env.work, 'c1'),
      '--from',
      'any',
    ]);
    expect(any.code, any.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(env.src), await snapshotTree(join(env.work, 'c1', env.src)))).toEqual(
      [],
    );
  });
});
