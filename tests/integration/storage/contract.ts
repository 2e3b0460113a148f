/**
 * The contract every Storage implementation passes (see src/storage/storage.ts). Every round trip
 * is compared byte for byte: S3-compatible servers have been seen storing the SDK's aws-chunked
 * framing verbatim, which a size or status check alone would not catch.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  CancelledError,
  IntegrityError,
  NotFoundError,
  UsageError,
} from '../../../src/errors.ts';
import type { Storage } from '../../../src/storage/storage.ts';

export interface StorageUnderTest {
  storage: Storage;
  cleanup(): Promise<void>;
  /** Backends (or test servers) lacking a feature turn its checks off; default all on. */
  caps?: { listIncomplete?: boolean; ifNoneMatch?: boolean; listOrder?: boolean };
  /** Anything left outside the Storage API's view (the filesystem's temp files). */
  leftovers?(): Promise<string[]>;
}

const MiB = 1024 * 1024;

/** `data` as a stream of uneven chunks, so part boundaries never line up with chunk boundaries. */
export function streamOf(data: Buffer, chunk = 64 * 1024 + 3): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
    })(),
  );
}

/** A body that keeps producing 1 MiB chunks until destroyed, or fails after `failAfter` bytes. */
export function endlessBody(opts: { failAfter?: number } = {}): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (this.destroyed) return;
        if (opts.failAfter !== undefined && sent >= opts.failAfter) {
          this.destroy(new Error('producer failed midway'));
          return;
        }
        sent += block.length;
        this.push(block);
      });
    },
  });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Array.fromAsync, which the es2024 lib does not declare. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function incompleteKeys(storage: Storage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const u of storage.listIncomplete(prefix)) out.push(u.key);
  return out;
}

export function describeStorageContract(label: string, make: () => Promise<StorageUnderTest>): void {
  describe(`Storage contract: ${label}`, () => {
    let sut: StorageUnderTest;
    let storage: Storage;
    beforeAll(async () => {
      sut = await make();
      storage = sut.storage;
    });
    afterAll(async () => {
      await storage?.close();
      await sut?.cleanup();
    });

    async function keysOf(s: Storage, prefix: string, bulk = false): Promise<string[]> {
      const keys = (await collect(s.list(prefix, { bulk }))).map((o) => o.key);
      // s3rver lists in its directory order; real S3 and the filesystem backend sort.
      return sut.caps?.listOrder === false ? keys.sort() : keys;
    }

    async function roundTrip(key: string, data: Buffer, body: Readable | Buffer) {
      const progress: number[] = [];
      const res = await storage.put(key, body, { onProgress: (n) => progress.push(n) });
      expect(res).toEqual({ key, size: data.length, sha256: sha256(data) });
      if (data.length > 0) expect(progress.at(-1)).toBe(data.length);
      const back = await readAll(await storage.get(key));
      expect(back.length).toBe(data.length);
      expect(back.equals(data)).toBe(true);
      expect((await storage.stat(key))?.size).toBe(data.length);
    }

    it('round-trips 0 bytes', async () => {
      await roundTrip('rt/empty', Buffer.alloc(0), streamOf(Buffer.alloc(0)));
    });
    it('round-trips 1 byte', async () => {
      const data = Buffer.from([0x2a]);
      await roundTrip('rt/one', data, streamOf(data));
    });
    it('round-trips a 3,000,000-byte stream', async () => {
      const data = randomBytes(3_000_000);
      await roundTrip('rt/three-million', data, streamOf(data));
    });
    it('round-trips a 23 MiB stream (multipart with small parts)', async () => {
      const data = randomBytes(23 * MiB + 12_345);
      await roundTrip('rt/multi', data, streamOf(data, 1_000_003));
    });
    it('round-trips a stream ending exactly on a part boundary', async () => {
      const data = randomBytes(10 * MiB);
      await roundTrip('rt/boundary', data, streamOf(data));
    });
    it('round-trips a Buffer body', async () => {
      const data = randomBytes(12 * MiB + 1);
      await roundTrip('rt/buffer', data, data);
    });

    it('replaces an existing object', async () => {
      await storage.put('replace/k', Buffer.from('old'));
      await storage.put('replace/k', Buffer.from('new!'));
      expect((await readAll(await storage.get('replace/k'))).toString()).toBe('new!');
    });

    it('stats present and missing keys', async () => {
      await storage.put('stat/k', Buffer.from('12345'));
      const info = await storage.stat('stat/k');
      expect(info?.key).toBe('stat/k');
      expect(info?.size).toBe(5);
      expect(info?.lastModified).toBeInstanceOf(Date);
      expect(await storage.stat('stat/missing')).toBeUndefined();
    });

    it('lists in lexical order, filtered by prefix, with relative keys', async () => {
      for (const k of ['ls/a/2', 'ls/b/c/d', 'ls/a/10', 'ls/a-b', 'ls/a/1'])
        await storage.put(k, Buffer.from(k));
      expect(await keysOf(storage, 'ls/')).toEqual(['ls/a-b', 'ls/a/1', 'ls/a/10', 'ls/a/2', 'ls/b/c/d']);
      expect(await keysOf(storage, 'ls/a/')).toEqual(['ls/a/1', 'ls/a/10', 'ls/a/2']);
      expect(await keysOf(storage, 'ls/a')).toEqual(['ls/a-b', 'ls/a/1', 'ls/a/10', 'ls/a/2']);
      expect(await keysOf(storage, 'ls/b/c')).toEqual(['ls/b/c/d']);
      expect(await keysOf(storage, 'ls/nothing/')).toEqual([]);
      // A bulk listing (a filesystem walks it on a thread of its own) lists the same.
      expect(await keysOf(storage, 'ls/', true)).toEqual(await keysOf(storage, 'ls/'));
      expect(await keysOf(storage, 'ls/a', true)).toEqual(['ls/a-b', 'ls/a/1', 'ls/a/10', 'ls/a/2']);
      const [first] = await collect(storage.list('ls/a/1'));
      expect(first?.size).toBe('ls/a/1'.length);
    });

    it('deletes idempotently', async () => {
      await storage.put('del/k', Buffer.from('x'));
      await storage.delete('del/k');
      expect(await storage.stat('del/k')).toBeUndefined();
      await storage.delete('del/k');
      await storage.delete('del/never-existed');
      expect(await keysOf(storage, 'del/')).toEqual([]);
    });

    it('extendRetention: never unlocks or changes an object, rejects a missing key', async () => {
      // Contract targets lock nothing (filesystem; an S3 bucket without objectLock): a no-op.
      // Locked objects are covered in s3.test.ts ("Object Lock").
      await storage.put('ext/k', Buffer.from('keep me'));
      const until = new Date(Date.now() + 86_400_000);
      expect(await storage.extendRetention('ext/k', until)).toBeUndefined();
      expect(await storage.retention('ext/k')).toBeUndefined();
      expect((await readAll(await storage.get('ext/k'))).toString()).toBe('keep me');
      await expect(storage.extendRetention('ext/missing', until)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('rejects get of a missing key with NotFoundError', async () => {
      await expect(storage.get('missing/k')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('serves byte ranges', async () => {
      const data = randomBytes(1000);
      await storage.put('range/k', data);
      const mid = await readAll(await storage.get('range/k', { range: { start: 10, end: 19 } }));
      expect(mid.equals(data.subarray(10, 20))).toBe(true);
      const tail = await readAll(await storage.get('range/k', { range: { start: 990, end: 5000 } }));
      expect(tail.equals(data.subarray(990))).toBe(true);
    });

    it('rejects keys that could escape the root', async () => {
      for (const key of ['../x', '/abs', 'a//b', 'a/./b', 'a/', '']) {
        await expect(storage.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(UsageError);
      }
    });

    it('creates only when absent with ifNoneMatch', async (ctx) => {
      if (sut.caps?.ifNoneMatch === false) ctx.skip();
      await storage.put('inm/k', Buffer.from('first'), { ifNoneMatch: true });
      await expect(storage.put('inm/k', Buffer.from('second'), { ifNoneMatch: true })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      expect((await readAll(await storage.get('inm/k'))).toString()).toBe('first');
    });

    async function expectNothingLeft(key: string) {
      expect(await storage.stat(key)).toBeUndefined();
      expect(await keysOf(storage, key)).toEqual([]);
      if (sut.caps?.listIncomplete !== false) expect(await incompleteKeys(storage, key)).toEqual([]);
      if (sut.leftovers) expect(await sut.leftovers()).toEqual([]);
    }

    it('aborting mid-upload rejects with CancelledError and leaves nothing', async () => {
      const ac = new AbortController();
      const body = endlessBody();
      const put = storage.put('abort/k', body, {
        signal: ac.signal,
        onProgress: (n) => {
          if (n >= 7 * MiB) ac.abort();
        },
      });
      await expect(put).rejects.toBeInstanceOf(CancelledError);
      expect(body.destroyed).toBe(true);
      await expectNothingLeft('abort/k');
    });

    it('a body failing midway rejects with its error and leaves nothing', async () => {
      const put = storage.put('fail/k', endlessBody({ failAfter: 8 * MiB }));
      await expect(put).rejects.toThrow('producer failed midway');
      await expectNothingLeft('fail/k');
    });

    it('a create-only put of an existing key leaves the original', async (ctx) => {
      if (sut.caps?.ifNoneMatch === false) ctx.skip();
      await storage.put('inm-multi/k', Buffer.from('original'));
      const data = randomBytes(11 * MiB);
      await expect(storage.put('inm-multi/k', streamOf(data), { ifNoneMatch: true })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      expect((await readAll(await storage.get('inm-multi/k'))).toString()).toBe('original');
      if (sut.caps?.listIncomplete !== false) expect(await incompleteKeys(storage, 'inm-multi/')).toEqual([]);
      if (sut.leftovers) expect(await sut.leftovers()).toEqual([]);
    });

    it('a put with `expect` stores bytes that match, and records their SHA-256 where it can', async () => {
      for (const [key, data] of [
        ['expect/small', randomBytes(1000)],
        ['expect/multi', randomBytes(11 * MiB)],
      ] as const) {
        const expect_ = { size: data.length, sha256: sha256(data) };
        const r = await storage.put(key, streamOf(data), { expect: expect_ });
        expect(r.sha256).toBe(expect_.sha256);
        expect(sha256(await readAll(await storage.get(key)))).toBe(expect_.sha256);
        const st = await storage.stat(key);
        if (storage.type === 's3') expect(st?.sha256).toBe(expect_.sha256);
      }
    });

    it('a put whose bytes differ from `expect` rejects with IntegrityError and leaves nothing', async () => {
      for (const [key, size] of [
        ['expect-bad/small', 1000],
        ['expect-bad/multi', 11 * MiB],
      ] as const) {
        const data = randomBytes(size);
        const wrong = { size, sha256: sha256(Buffer.concat([data.subarray(1), Buffer.from([0])])) };
        await expect(storage.put(key, streamOf(data), { expect: wrong })).rejects.toBeInstanceOf(
          IntegrityError,
        );
        await expectNothingLeft(key);
        const short = { size: size + 1, sha256: sha256(data) };
        await expect(storage.put(key, streamOf(data), { expect: short })).rejects.toThrow(
          /nothing was stored/,
        );
        await expectNothingLeft(key);
      }
    });
  });
}
