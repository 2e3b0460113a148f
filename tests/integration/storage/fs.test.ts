import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageError, UsageError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { createFsStorage } from '../../../src/storage/fs.ts';
import type { IncompleteUpload } from '../../../src/storage/storage.ts';
import { missing } from '../../fixtures/require.ts';
import { collect, describeStorageContract, endlessBody, streamOf } from './contract.ts';

async function tempFiles(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return all.filter((p) => p.split('/').at(-1)?.startsWith('.bo-tmp-'));
}

function fsStorage(dir: string) {
  return createFsStorage('test', { type: 'filesystem', path: dir }, { log: silentLogger() });
}

describeStorageContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bo-fs-contract-'));
  return {
    storage: fsStorage(join(dir, 'repo')),
    leftovers: () => tempFiles(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('filesystem storage', () => {
  const dirs: string[] = [];
  async function newDir() {
    const d = await mkdtemp(join(tmpdir(), 'bo-fs-'));
    dirs.push(d);
    return d;
  }
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('stores each key as a plain file under the root (restorable without bo)', async () => {
    const dir = await newDir();
    const res = await fsStorage(dir).put('job/2025-01-01/archive.tar.zst', Buffer.from('data'));
    expect(res.size).toBe(4);
    expect(await readFile(join(dir, 'job/2025-01-01/archive.tar.zst'), 'utf8')).toBe('data');
  });

  it('reports temp files as incomplete uploads, not objects, and aborts them', async () => {
    const dir = await newDir();
    const storage = fsStorage(dir);
    await storage.put('job/id/manifest.json', Buffer.from('{}'));
    await writeFile(join(dir, 'job/id/.bo-tmp-0a1b2c-archive.tar.zst'), 'partial');
    expect((await collect(storage.list(''))).map((o) => o.key)).toEqual(['job/id/manifest.json']);
    const incomplete = await collect(storage.listIncomplete('job/'));
    expect(incomplete).toHaveLength(1);
    expect(incomplete[0]?.key).toBe('job/id/archive.tar.zst');
    expect(incomplete[0]?.initiated).toBeInstanceOf(Date);
    expect(await collect(storage.listIncomplete('other/'))).toEqual([]);
    await storage.abortIncomplete(incomplete[0]!);
    expect(await tempFiles(dir)).toEqual([]);
    await expect(
      storage.abortIncomplete({ key: 'x', uploadId: 'job/id/manifest.json', initiated: new Date() }),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it('finds the incomplete uploads in the same walk as the listing, when asked', async () => {
    const dir = await newDir();
    const storage = fsStorage(dir);
    await storage.put('job/a/manifest.json', Buffer.from('{}'));
    await storage.put('job/b/manifest.json', Buffer.from('{}'));
    await writeFile(join(dir, 'job/b/.bo-tmp-0a1b2c-archive.tar.zst'), 'partial');
    const incomplete = { uploads: [] as IncompleteUpload[], complete: false };
    const listed = await collect(storage.list('job/', { incomplete }));
    expect(listed.map((o) => o.key)).toEqual(['job/a/manifest.json', 'job/b/manifest.json']);
    expect(incomplete.complete).toBe(true);
    expect(incomplete.uploads).toEqual(await collect(storage.listIncomplete('job/')));
    expect(incomplete.uploads).toHaveLength(1);
    // A listing that stops early is not complete: the caller must ask listIncomplete.
    const partial = { uploads: [] as IncompleteUpload[], complete: false };
    for await (const _ of storage.list('job/', { incomplete: partial })) break;
    expect(partial.complete).toBe(false);
  });

  it('a bulk listing (on its own thread) lists what the plain one does, in key order', async () => {
    const dir = await newDir();
    const storage = fsStorage(dir);
    // A big folder (its names sorted by the engine) and one whose names defeat that: one starts
    // another (directory "a" sorts as "a/", after "a-b"), and non-ASCII ones.
    const keys: string[] = [];
    for (let i = 0; i < 600; i++) keys.push(`job/b${String(i).padStart(4, '0')}/manifest.json`);
    for (const n of [
      'a/x',
      'a-b/x',
      'ab',
      'é/x',
      'z😀/x',
      'ｚ/x',
      ...Array.from({ length: 70 }, (_, i) => `m${i}`),
    ])
      keys.push(`job/c/${n}`);
    for (const k of keys) await storage.put(k, Buffer.from(k));
    await writeFile(join(dir, 'job/b0001/.bo-tmp-0a1b2c-archive.tar.zst'), 'partial');
    const utf8Order = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const plain = { uploads: [] as IncompleteUpload[], complete: false };
    const bulk = { uploads: [] as IncompleteUpload[], complete: false };
    const listed = await collect(storage.list('job/', { incomplete: plain }));
    const threaded = await collect(storage.list('job/', { incomplete: bulk, bulk: true }));
    expect(listed.map((o) => o.key)).toEqual(utf8Order);
    expect(threaded).toEqual(listed);
    expect(bulk).toEqual(plain);
    expect(bulk.uploads).toHaveLength(1);
    expect((await collect(storage.list('job/c/a', { bulk: true }))).map((o) => o.key)).toEqual([
      'job/c/a-b/x',
      'job/c/a/x',
      'job/c/ab',
    ]);
  });

  it('a bulk listing stops its thread when the reader stops or the signal aborts', async () => {
    const dir = await newDir();
    const storage = fsStorage(dir);
    for (let i = 0; i < 1200; i++) await storage.put(`job/b${i}/manifest.json`, Buffer.from('{}'));
    const workers = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const before = workers();
    let n = 0;
    let during = 0;
    for await (const _ of storage.list('job/', { bulk: true })) {
      during = workers();
      if (++n === 10) break;
    }
    expect(during).toBeGreaterThan(before);
    // Gone once the listing has returned (polled: a busy machine may take a moment to report it).
    await vi.waitFor(() => expect(workers()).toBe(before), { timeout: 10_000 });
    const ac = new AbortController();
    const read = (async () => {
      for await (const _ of storage.list('job/', { bulk: true, signal: ac.signal }))
        ac.abort(new Error('stop'));
    })();
    await expect(read).rejects.toThrow('stop');
    await vi.waitFor(() => expect(workers()).toBe(before), { timeout: 10_000 });
    await expect(collect(storage.list('../x/', { bulk: true }))).rejects.toBeInstanceOf(UsageError);
  });

  it('prunes directories emptied by delete', async () => {
    const dir = await newDir();
    const storage = fsStorage(dir);
    await storage.put('job/id/a', Buffer.from('a'));
    await storage.delete('job/id/a');
    expect(existsSync(join(dir, 'job'))).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });

  it('lists nothing from a repository that does not exist yet', async () => {
    const dir = await newDir();
    expect(await collect(fsStorage(join(dir, 'not-yet')).list(''))).toEqual([]);
  });

  it('refuses list prefixes that escape the root', async () => {
    const storage = fsStorage(await newDir());
    await expect(collect(storage.list('../'))).rejects.toBeInstanceOf(UsageError);
  });

  it('has no retention', async () => {
    const storage = await fsStorage(await newDir());
    expect(storage.lockable).toBe(false);
    expect(await storage.retention('x')).toBeUndefined();
  });

  it('fails with a clear StorageError on a full disk and removes the temp file', async (ctx) => {
    const dir = await newDir();
    const canMount = process.getuid?.() === 0 && tryMount(dir);
    if (missing('a small tmpfs (needs root for mount -t tmpfs)', canMount, 'run the tests as root'))
      ctx.skip();
    try {
      const storage = fsStorage(dir);
      const err = await storage.put('big/k', endlessBody()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as Error).message).toMatch(/disk full: no space left to write .*big\/k/);
      expect(await tempFiles(dir)).toEqual([]);
      // Space is back once the temp file is gone: a small object still fits.
      await storage.put('small/k', streamOf(Buffer.alloc(1000, 1)));
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});

function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
