/**
 * Seekable archives, end to end against a real S3 server (moto, ranged GETs) and a filesystem
 * repository: frames of 64 KiB so a small tree spans many, volumes of 96 KiB so ranged reads
 * cross objects, plain archives framed by the server's split+zstd and encrypted ones framed by
 * bo. A restore of one file reads only its frames and checks its SHA-256; a damaged middle frame
 * fails a restore of what it holds, loudly, and nothing else; verify names the frame.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, parseIdentities } from '../../../src/archive/age/index.ts';
import { agePayload } from '../../../src/archive/age/seek.ts';
import { listJobBackups } from '../../../src/catalog/catalog.ts';
import { readBackupIndex } from '../../../src/catalog/chain-index.ts';
import { volumesOf } from '../../../src/catalog/manifest.ts';
import { restoreBackup } from '../../../src/jobs/restore.ts';
import { verifyBackup } from '../../../src/jobs/verify.ts';
import { silentLogger } from '../../../src/log.ts';
import { objectKey } from '../../../src/storage/layout.ts';
import { awsCli } from '../../fixtures/aws-cli.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { readmeRecipe, runWithAws } from '../../fixtures/readme.ts';
import { missing } from '../../fixtures/require.ts';
import { type BackupEnv, backupEnv, wrapStorage } from './backup-env.ts';

const key = generateIdentity();
const identities = parseIdentities(key.identity);
const FRAME = 64 * 1024;
const CHUNK = 64 * 1024;
const kinds = s3Missing() ? (['fs'] as const) : (['fs', 's3'] as const);
const cases = kinds.flatMap((kind) => [
  { kind, sealed: false, compressOn: 'server' },
  { kind, sealed: true, compressOn: 'backup-host' },
]);

/** Files chosen to sit across frame and age-chunk boundaries, empty, sparse, and compressible. */
async function makeTree(src: string): Promise<void> {
  await mkdir(join(src, 'm'), { recursive: true });
  await writeFile(join(src, 'm', 'empty'), '');
  for (const n of [1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * FRAME + 17])
    await writeFile(join(src, 'm', `r-${n}`), randomBytes(n));
  await writeFile(join(src, 'm', 'text.log'), 'mail delivered to alice\n'.repeat(20_000));
  const sparse = await open(join(src, 'm', 'sparse.img'), 'w');
  await sparse.write(randomBytes(4096), 0, 4096, 300_000);
  await sparse.truncate(2 * 1024 * 1024);
  await sparse.close();
  for (let i = 0; i < 40; i++) await writeFile(join(src, 'm', `small-${i}`), randomBytes(3000 + i * 97));
  // Bulk, so that what one file's restore reads is a small part of the archive.
  await mkdir(join(src, 'bulk'));
  for (let i = 0; i < 40; i++) await writeFile(join(src, 'bulk', `f-${i}`), randomBytes(100_000));
}

describe.each(cases)('seekable archives ($kind, sealed: $sealed, compressed on the $compressOn)', (c) => {
  let env: BackupEnv;
  let gets: Array<{ key: string; range?: { start: number; end: number } }> = [];
  let storage: BackupEnv['storage'];
  beforeAll(async () => {
    const job = {
      frameSize: '64KiB',
      compressOn: c.compressOn,
      ...(c.sealed ? { encryption: { recipients: [key.recipient] } } : {}),
    };
    const volumes = { volumeSize: '96KiB' };
    env = await backupEnv(c.kind, {
      jobs: { files: job },
      ...(c.kind === 's3' ? { s3: volumes } : { fs: volumes }),
    });
    await makeTree(env.src);
    await env.backup('files');
    storage = wrapStorage(env.storage, {
      get: (k, opts) => {
        gets.push({ key: k, ...(opts?.range ? { range: opts.range } : {}) });
        return env.storage.get(k, opts);
      },
    });
  }, 120_000);
  afterAll(() => env?.cleanup());

  const ref = async () => (await listJobBackups(env.storage, 'files', { full: true })).backups.at(-1)!;
  const restore = async (paths: string[], dir: string, whole = false) => {
    gets = [];
    return await restoreBackup({
      whole,
      storage,
      ref: await ref(),
      target: { kind: 'local', dir: join(env.work, dir) },
      include: paths.map((p) => join(env.src, p)),
      identities,
      signal: new AbortController().signal,
      log: silentLogger(),
    });
  };

  it('records frames in the manifest and where every entry starts in the index', async () => {
    const r = await ref();
    expect(r.manifest.version).toBe(4);
    expect(r.manifest.seekable).toEqual({
      frameSize: FRAME,
      frames: Math.ceil(r.manifest.stats.tarBytes / FRAME),
    });
    expect(r.manifest.archive.volumes!.length).toBeGreaterThan(3);
    const { entries } = await readBackupIndex(env.storage, r, identities);
    expect(entries.every((e) => e.at && Math.floor(e.at[1] / FRAME) < r.manifest.seekable!.frames)).toBe(
      true,
    );
  });

  it('restores each file alone from its frames only, with ranged reads, byte for byte', async () => {
    const r = await ref();
    const files = [
      'm/empty',
      'm/r-1',
      `m/r-${CHUNK - 1}`,
      `m/r-${CHUNK}`,
      `m/r-${CHUNK + 1}`,
      `m/r-${3 * FRAME + 17}`,
      'm/text.log',
      'm/sparse.img',
      'm/small-7',
    ];
    for (const [i, f] of files.entries()) {
      const result = await restore([f], `one-${i}`);
      expect(result.files).toBe(1);
      const got = await readFile(join(env.work, `one-${i}`, env.src, f));
      const want = await readFile(join(env.src, f));
      expect([got.length, got.equals(want)], f).toEqual([want.length, true]);
      const archiveGets = gets.filter((g) => g.key.includes('/archive.'));
      expect(archiveGets.length, f).toBeGreaterThan(0);
      expect(
        archiveGets.every((g) => g.range !== undefined),
        f,
      ).toBe(true);
      // Its frames, and a zstd block (128 KiB) past its end at most: a small part of the archive.
      const archiveRead = result.read.bytes - r.manifest.index.size - (c.sealed ? 4096 : 0);
      const size = (await readFile(join(env.src, f))).length;
      expect(archiveRead, f).toBeLessThan(Math.min(size, 300_000) + 2 * FRAME + 200 * 1024);
      expect(archiveRead, f).toBeLessThan(r.manifest.archive.size / 8);
    }
    const { size } = await (await import('node:fs/promises')).stat(
      join(env.work, 'one-7', env.src, 'm/sparse.img'),
    );
    expect(size).toBe(2 * 1024 * 1024);
  });

  it('reads the archive whole, checked against the manifest, when asked to (--whole)', async () => {
    const r = await ref();
    const result = await restore(['m/small-7'], 'whole', true);
    expect(result.files).toBe(1);
    expect(gets.filter((g) => g.key.includes('/archive.')).every((g) => g.range === undefined)).toBe(true);
    expect(result.read.bytes).toBeGreaterThanOrEqual(r.manifest.archive.size);
  });

  it('restores a file in the very last frame', async () => {
    const r = await ref();
    const { entries } = await readBackupIndex(env.storage, r, identities);
    const last = entries.filter((e) => e.type === 'file').sort((a, b) => b.at![1] - a.at![1])[0]!;
    expect(Math.floor(last.at![1] / FRAME)).toBe(r.manifest.seekable!.frames - 1);
    await restore([`/${last.path}`.slice(env.src.length + 1)], 'last');
    const rel = last.path.slice(env.src.length);
    expect(
      (await readFile(join(env.work, 'last', last.path))).equals(await readFile(join(env.src, rel))),
    ).toBe(true);
  });

  it('restores the whole tree exactly, and a directory of it', async () => {
    await restore([], 'all');
    expect(
      diffTrees(await snapshotTree(env.src), await snapshotTree(join(env.work, 'all', env.src))),
    ).toEqual([]);
    await restore(['m'], 'dir');
    const m = (root: string) => snapshotTree(join(root, 'm'));
    expect(diffTrees(await m(env.src), await m(join(env.work, 'dir', env.src)))).toEqual([]);
  });

  // One aws CLI run per volume: in the bucket, the encrypted case alone covers the recipe.
  const stockRecipe = c.kind === 'fs' || c.sealed ? it : undefined;
  stockRecipe?.(
    "restores with the README's stock-tool recipes (zstd -d reads the frames as one stream)",
    async (ctx) => {
      const r = await ref();
      const dest = join(env.work, 'stock');
      const keyFile = join(env.work, 'key.txt');
      await writeFile(keyFile, `${key.identity}\n`);
      if (c.kind === 'fs') {
        const script = readmeRecipe(
          'fs-chain',
          `REPO=${join(env.work, 'repo', 'files')} ID=${r.id} DEST=${dest}`,
        );
        // The filesystem recipe is written for plain archives: an encrypted one goes through age first.
        execFileSync('sh', [
          '-c',
          c.sealed ? script.replace('| zstd -d', `| age -d -i ${keyFile} | zstd -d`) : script,
        ]);
      } else {
        if (missing('aws CLI', awsCli() !== undefined, 'pip install awscli (into the moto venv)'))
          return ctx.skip();
        const first = `S3=s3://${env.bucket!.name}/bo/files ID=${r.id} KEY=${keyFile} DEST=${dest}`;
        runWithAws(readmeRecipe('s3-chain', first), env.bucket!.endpoint);
      }
      expect(diffTrees(await snapshotTree(env.src), await snapshotTree(join(dest, env.src)))).toEqual([]);
    },
    // One aws CLI process per 96 KiB volume: 25 s on an idle machine, over 60 s beside two CPU hogs.
    240_000,
  );

  it('a damaged middle frame fails the restore of a file in it, loudly, and of nothing else; verify names the frame', async () => {
    const r = await ref();
    const { entries } = await readBackupIndex(env.storage, r, identities);
    // A file in a middle frame, and a byte of its content well inside that frame (random data:
    // zstd stores it as is, so the flipped byte is the file's).
    const frames = r.manifest.seekable!.frames;
    const frameOf = (e: (typeof entries)[number]) => Math.floor(e.at![1] / FRAME);
    const victim = entries.find(
      (e) =>
        e.type === 'file' &&
        e.size > 2000 &&
        frameOf(e) > 0 &&
        frameOf(e) < frames - 1 &&
        (e.at![1] % FRAME) + 512 + 1500 < FRAME,
    )!;
    const frame = frameOf(victim);
    const plain = victim.at![0] + (victim.at![1] % FRAME) + 512 + 1000;
    let stored = plain;
    if (c.sealed) {
      const head = await readAll(env.storage, objectKey(r, r.manifest.archive.key));
      const p = agePayload(head, r.manifest.archive.size, identities)!;
      stored = p.start + Math.floor(plain / CHUNK) * (CHUNK + 16) + (plain % CHUNK);
    }
    await flipByte(env.storage, r, stored);

    const rel = (e: { path: string }) => e.path.slice(env.src.length);
    const elsewhere = entries.find(
      (e) => e.type === 'file' && e.size > 0 && Math.abs(frameOf(e) - frame) > 1,
    )!;
    const ok = await restore([rel(elsewhere)], 'after-damage');
    expect(ok.files).toBe(1);
    await expect(restore([rel(victim)], 'damaged')).rejects.toThrow(/restore FAILED/);

    const v = await verifyBackup(env.storage, await ref(), {
      identities,
      signal: new AbortController().signal,
    });
    expect(v.status).toBe('failed');
    const named = v.problems.find((p) =>
      p.startsWith(`frame ${frame + 1} of ${r.manifest.seekable!.frames}`),
    );
    expect(named, v.problems.join('\n')).toContain(`/${victim.path}`);
  });
});

async function readAll(storage: BackupEnv['storage'], k: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of await storage.get(k, { range: { start: 0, end: 8191 } })) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

/** Flips one byte of a backup's archive at `offset` (of the volumes' concatenation), in place. */
async function flipByte(
  storage: BackupEnv['storage'],
  r: Awaited<ReturnType<typeof listJobBackups>>['backups'][number],
  offset: number,
) {
  let base = 0;
  for (const v of volumesOf(r.manifest.archive)) {
    if (offset < base + v.size) {
      const k = objectKey(r, v.key);
      const parts: Buffer[] = [];
      for await (const b of await storage.get(k)) parts.push(b as Buffer);
      const buf = Buffer.concat(parts);
      buf[offset - base]! ^= 0x55;
      await storage.put(k, buf);
      return;
    }
    base += v.size;
  }
  throw new Error(`offset ${offset} is past the archive`);
}
