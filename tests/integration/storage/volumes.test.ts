/**
 * The volume writer (storage/volumes.ts) and its reader (catalog/objects.ts openVerified), on a
 * real filesystem repository and a real S3 server: a stream cut into volumes of a configured
 * size reads back whole, every volume is checked, and a failure leaves no volume behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackupRef } from '../../../src/catalog/backups.ts';
import { type Manifest, storedObject } from '../../../src/catalog/manifest.ts';
import { openVerified } from '../../../src/catalog/objects.ts';
import { IntegrityError, NotFoundError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { createFsStorage } from '../../../src/storage/fs.ts';
import { createS3Storage } from '../../../src/storage/s3.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { putVolumes } from '../../../src/storage/volumes.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { endlessBody, readAll, streamOf } from './contract.ts';

const KiB = 1024;
const VOLUME = 64 * KiB;
const log = silentLogger();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ref = (): BackupRef => ({ job: 'j', id: 'b1', manifest: {} as Manifest });

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function fsRepo(): Promise<{ storage: Storage; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'bo-volumes-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return {
    storage: createFsStorage('fs', { type: 'filesystem', path: dir, volumeSize: VOLUME }, { log }),
    dir,
  };
}

async function s3Repo(): Promise<Storage> {
  const b: TestBucket = await newBucket({ prefix: 'bo/' });
  cleanups.push(() => b.destroy());
  return createS3Storage('s3', { ...b.parsed, volumeSize: VOLUME }, { log });
}

const backends: Array<[string, () => Promise<Storage>]> = [
  ['filesystem', async () => (await fsRepo()).storage],
];
if (!s3Missing()) backends.push(['s3', s3Repo]);

describe.each(backends)('volumes on %s', (_label, make) => {
  for (const [what, size, volumes] of [
    ['an empty stream', 0, 1],
    ['a stream within one volume', VOLUME - 1, 1],
    ['a stream of exactly one volume', VOLUME, 1],
    ['a stream one byte over a volume', VOLUME + 1, 2],
    ['a stream of exactly three volumes', 3 * VOLUME, 3],
    ['a stream of 5.5 volumes', 5.5 * VOLUME, 6],
  ] as const) {
    it(`stores ${what} in ${volumes} volume(s) and reads it back whole`, async () => {
      const storage = await make();
      const data = randomBytes(size);
      const r = await putVolumes(storage, 'j/b1/archive.tar.zst', streamOf(data, 10_000), { log });
      expect(r.size).toBe(size);
      expect(r.sha256).toBe(sha256(data));
      const obj = storedObject('archive.tar.zst', r);
      expect(obj.volumes?.length ?? 1).toBe(volumes);
      if (obj.volumes) {
        expect(obj.volumes.map((v) => v.key)).toEqual(
          ['archive.tar.zst', 'archive.tar.zst.00002', 'archive.tar.zst.00003', 'archive.tar.zst.00004']
            .concat(['archive.tar.zst.00005', 'archive.tar.zst.00006'])
            .slice(0, volumes),
        );
        expect(obj.volumes.every((v) => v.size <= VOLUME)).toBe(true);
        expect(obj.volumes.reduce((n, v) => n + v.size, 0)).toBe(size);
      }
      const read = await openVerified(storage, ref(), obj);
      expect(sha256(await readAll(read.stream))).toBe(sha256(data));
      read.check();
    });
  }

  it('a body failing in the third volume leaves no volume behind', async () => {
    const storage = await make();
    await expect(
      putVolumes(storage, 'j/b2/archive.tar.zst', endlessBody({ failAfter: 2 * VOLUME + 100 }), { log }),
    ).rejects.toThrow('producer failed midway');
    const left: string[] = [];
    for await (const o of storage.list('j/b2/')) left.push(o.key);
    expect(left).toEqual([]);
  });
});

describe('reading volumes back', () => {
  async function stored(): Promise<{ storage: Storage; dir: string; obj: ReturnType<typeof storedObject> }> {
    const { storage, dir } = await fsRepo();
    const r = await putVolumes(storage, 'j/b1/archive.tar.zst', Readable.from([randomBytes(3 * VOLUME)]), {
      log,
    });
    return { storage, dir, obj: storedObject('archive.tar.zst', r) };
  }

  it('a corrupted middle volume fails the stream with IntegrityError naming that volume', async () => {
    const { storage, dir, obj } = await stored();
    await writeFile(join(dir, 'j/b1/archive.tar.zst.00002'), randomBytes(VOLUME));
    const read = await openVerified(storage, ref(), obj);
    const err = await readAll(read.stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(String(err)).toMatch(/volume j\/b1\/archive\.tar\.zst\.00002 is corrupted/);
  });

  it('a missing last volume fails the stream with NotFoundError', async () => {
    const { storage, dir, obj } = await stored();
    await rm(join(dir, 'j/b1/archive.tar.zst.00003'));
    expect(await readdir(join(dir, 'j/b1'))).toHaveLength(2);
    const read = await openVerified(storage, ref(), obj);
    await expect(readAll(read.stream)).rejects.toBeInstanceOf(NotFoundError);
  });
});
