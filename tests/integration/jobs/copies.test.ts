/**
 * Copies to a second storage (issue 12), against real S3 servers: two moto servers (two
 * endpoints) and a filesystem repository. Backups are copied after they commit, from the job's
 * storage, as stored (ciphertext as is), server-side where the storages share an endpoint,
 * verified against the manifest, the manifest last.
 */
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, parseIdentities } from '../../../src/archive/age/index.ts';
import { listJobBackups } from '../../../src/catalog/catalog.ts';
import { storedVolumes } from '../../../src/catalog/manifest.ts';
import { copyJob } from '../../../src/jobs/copy.ts';
import { pruneJobs } from '../../../src/jobs/prune.ts';
import { restoreBackup } from '../../../src/jobs/restore.ts';
import { silentLogger } from '../../../src/log.ts';
import { manifestKey, objectKey } from '../../../src/storage/layout.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { motoCommand, type S3Server, startMoto } from '../../fixtures/s3-server.ts';
import { readAll } from '../storage/contract.ts';
import { type CopyEnv, copyEnv, countingReads, type StorageName } from './copy-env.ts';

const skip = s3Missing() ?? (motoCommand() ? undefined : 'needs moto for a second S3 endpoint');
const key = generateIdentity();
const identities = parseIdentities(key.identity);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const log = silentLogger();
const signal = new AbortController().signal;
const DAY = 86_400_000;

describe.skipIf(skip)('copies', () => {
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

  const everywhere = ['near', 'cold', 'nas'] as const;

  async function same(storage: StorageName, job: string, id: string): Promise<void> {
    const from = env!.storage('fast');
    const to = env!.storage(storage);
    const manifest = manifestKey(job, id);
    expect((await readAll(await to.get(manifest))).equals(await readAll(await from.get(manifest)))).toBe(
      true,
    );
    const { manifest: m } = (await listJobBackups(from, job, { full: true })).backups.find(
      (b) => b.id === id,
    )!;
    for (const v of storedVolumes(m)) {
      const copied = await readAll(await to.get(objectKey({ job, id }, v.key)));
      expect(sha(copied)).toBe(v.sha256);
    }
  }

  async function restoresFrom(storage: StorageName, job: string, id: string) {
    const ref = (await listJobBackups(env!.storage(storage), job, { full: true })).backups.find(
      (b) => b.id === id,
    )!;
    const dir = `${env!.work}/restore-${storage}-${job}`;
    await restoreBackup({
      storage: env!.storage(storage),
      ref,
      target: { kind: 'local', dir },
      identities,
      signal,
      log,
    });
    expect(diffTrees(await snapshotTree(env!.src), await snapshotTree(`${dir}${env!.src}`))).toEqual([]);
  }

  it('copies plain and encrypted backups after they commit, byte for byte, to every copy', async () => {
    env = await copyEnv({
      cold,
      jobs: {
        plain: { copies: [...everywhere] },
        sealed: { copies: [...everywhere], encryption: { recipients: [key.recipient] } },
      },
    });
    for (const job of ['plain', 'sealed']) {
      const { id, summary } = await env.backup(job);
      for (const s of everywhere)
        expect(summary).toMatch(new RegExp(`copied 1 backup\\(s\\) \\([^)]*\\) to ${s}`));
      for (const s of everywhere) {
        await same(s, job, id);
        await restoresFrom(s, job, id);
      }
    }
    // The encrypted copy is the same ciphertext: no identity was needed to make it.
    const sealed = (await listJobBackups(env.storage('cold'), 'sealed', { full: true })).backups[0]!;
    expect(sealed.manifest.encryption?.recipients).toEqual([key.recipient]);
  });

  it('copies server-side within one endpoint (reading nothing through bo) and streams across endpoints', async () => {
    env = await copyEnv({ cold, jobs: { files: {} } });
    const { id } = await env.backup('files');
    const reads: string[] = [];
    const services = env.servicesWith((s) => countingReads(s, reads));
    const job = env.config.jobs.files as Parameters<typeof copyJob>[2];
    const near = await copyJob(services, 'files', job, 'near', { signal, log });
    expect(near.copied).toEqual([expect.objectContaining({ id, serverSide: 2, objects: 2 })]);
    expect(reads.filter((r) => !r.endsWith('manifest.json') && !r.includes('_bo/'))).toEqual([]);
    const far = await copyJob(services, 'files', job, 'cold', { signal, log });
    expect(far.copied).toEqual([expect.objectContaining({ id, serverSide: 0, objects: 2 })]);
    expect(reads.filter((r) => r.includes('archive.tar.zst'))).toEqual([`fast:files/${id}/archive.tar.zst`]);
    await same('near', 'files', id);
    await same('cold', 'files', id);
    // Nothing twice: a second run finds everything there.
    const again = await copyJob(services, 'files', job, 'cold', { signal, log });
    expect(again).toMatchObject({ copied: [], present: [id] });
  });

  it('never copies a corrupted source object, server-side or streamed, and leaves no backup behind', async () => {
    env = await copyEnv({ cold, jobs: { files: {} } });
    const { id } = await env.backup('files');
    const archive = `bo/files/${id}/archive.tar.zst`;
    const original = await readAll(await env.storage('fast').get(`files/${id}/archive.tar.zst`));
    const flipped = Buffer.from(original);
    flipped[flipped.length >> 1]! ^= 0x40;
    const b = env.buckets.fast;
    await b.client.send(new PutObjectCommand({ Bucket: b.name, Key: archive, Body: flipped }));
    const job = env.config.jobs.files as Parameters<typeof copyJob>[2];
    for (const to of everywhere) {
      const r = await copyJob(env.services, 'files', job, to, { signal, log });
      expect(r.copied).toEqual([]);
      expect(r.failed).toEqual([
        { id, error: expect.stringMatching(/does not match its manifest, so it was not copied/) },
      ]);
      const target = env.storage(to);
      expect(await target.stat(manifestKey('files', id))).toBeUndefined();
      expect(await target.stat(`files/${id}/archive.tar.zst`)).toBeUndefined();
    }
  });

  it('keeps retention and Object Lock per storage: prune works on each with its own policy', async () => {
    env = await copyEnv({
      cold,
      jobs: {
        files: {
          incremental: false, // standalone archives: retention alone decides
          retention: { last: 3 },
          copies: [
            { storage: 'cold', retention: { last: 1 } },
            { storage: 'near', retention: { last: 1 } },
          ],
        },
      },
      storage: { near: { objectLock: { mode: 'GOVERNANCE', days: 1 } } },
      objectLock: ['near'],
    });
    const ids: string[] = [];
    for (const daysAgo of [3, 2, 1]) {
      const r = await env.backup('files', new Date(Date.now() - daysAgo * DAY));
      ids.push(r.id);
    }
    // Every copied object in the locked storage is locked, the server-side copies included.
    for (const id of ids) {
      const lock = await env.storage('near').retention(`files/${id}/archive.tar.zst`);
      expect(lock?.mode).toBe('GOVERNANCE');
      expect(lock!.until.getTime()).toBeGreaterThan(Date.now() + 20 * 3_600_000);
    }
    const reports = await pruneJobs(env.services, ['files'], { signal, log });
    const by = Object.fromEntries(reports.map((r) => [r.storage, r]));
    expect(Object.keys(by).sort()).toEqual(['cold', 'fast', 'near']);
    expect(by.fast!.execution?.deletedIds).toEqual([]);
    expect(by.cold!.execution?.deletedIds.sort()).toEqual(ids.slice(0, 2).sort());
    expect(by.near!.plan?.totals.locked).toBe(2); // last: 1, but Object Lock holds the other two
    expect(by.near!.execution?.deletedIds).toEqual([]);
    const left = async (s: StorageName) =>
      (await listJobBackups(env!.storage(s), 'files', { full: true })).backups.map((b) => b.id);
    expect(await left('fast')).toEqual(ids);
    expect(await left('cold')).toEqual([ids[2]]);
    expect(await left('near')).toEqual(ids);
    // What prune removed from a copy is not brought back by the next copy.
    const job = env.config.jobs.files as Parameters<typeof copyJob>[2];
    const again = await copyJob(env.services, 'files', job, 'cold', { signal, log });
    expect(again.copied).toEqual([]);
    expect(again.skipped.map((x) => x.id).sort()).toEqual(ids.slice(0, 2).sort());
  });

  it("puts each object kind in the target's storage class: archives and dumps only", async () => {
    env = await copyEnv({
      cold,
      jobs: {
        files: {
          copies: ['near', 'cold'],
          dumps: [{ type: 'command', name: 'app', command: "echo 'SELECT 1;'" }],
        },
      },
      storage: { near: { storageClass: 'STANDARD_IA' }, cold: { storageClass: 'GLACIER' } },
    });
    const { id } = await env.backup('files');
    for (const [name, cls] of [
      ['near', 'STANDARD_IA'],
      ['cold', 'GLACIER'],
    ] as const) {
      const b = env.buckets[name];
      const listed = await b.client.send(new ListObjectsV2Command({ Bucket: b.name }));
      const classes = Object.fromEntries(
        (listed.Contents ?? []).map((o) => [o.Key!.replace(id, 'ID'), o.StorageClass]),
      );
      expect(classes).toEqual({
        'bo/_bo/catalog-summary/files.jsonl.zst': 'STANDARD',
        'bo/_bo/catalog/files.json.zst': 'STANDARD',
        'bo/_bo/locks/job/files/000000000001.json': 'STANDARD',
        'bo/files/ID/archive.tar.zst': cls,
        'bo/files/ID/dump-app.sql.zst': cls,
        'bo/files/ID/index.jsonl.zst': 'STANDARD',
        'bo/files/ID/manifest.json': 'STANDARD',
      });
    }
  });
});
