import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, systemClock } from '../../../src/clock.ts';
import { silentLogger } from '../../../src/log.ts';
import { createFsStorage } from '../../../src/storage/fs.ts';
import { lockEpochKey } from '../../../src/storage/layout.ts';
import { acquireLock, type LockDeps } from '../../../src/storage/lock.ts';
import { listLocks } from '../../../src/storage/lock-list.ts';
import {
  currentBootId,
  LockBusyError,
  LockLostError,
  type LockOwner,
  type LockRecord,
} from '../../../src/storage/lock-record.ts';
import { createS3Storage } from '../../../src/storage/s3.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';

const skipS3 = s3Missing();

function fakeOwner(name: string, extra: Partial<LockOwner> = {}): LockOwner {
  return { host: 'elsewhere', pid: 4242, runId: name, purpose: 'backup', ...extra };
}

function record(scope: string, epoch: number, owner: LockOwner, expiresAt: Date): LockRecord {
  const at = new Date(expiresAt.getTime() - 60_000).toISOString();
  return {
    format: 'bo-lock',
    version: 1,
    scope,
    epoch,
    owner,
    acquiredAt: at,
    refreshedAt: at,
    expiresAt: expiresAt.toISOString(),
    ttlMs: 60_000,
    released: false,
  };
}

/** A logger whose lines land in `lines`, to check what was logged. */
function capture(): { log: ReturnType<typeof silentLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const dest = new Writable({
    write(chunk, _e, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, dest), lines };
}

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(skipS3)],
])('storage lock on %s', (_label, kind, skip) => {
  let storage: Storage;
  let dir: string | undefined;
  let bucket: TestBucket | undefined;
  let n = 0;
  const scope = () => `job/t${++n}`;
  const deps = (clock: Clock = systemClock, log = silentLogger()): LockDeps => ({ storage, clock, log });

  beforeAll(async () => {
    if (skip) return;
    if (kind === 'fs') {
      dir = await mkdtemp(join(tmpdir(), 'bo-lock-'));
      storage = createFsStorage(
        'repo',
        { type: 'filesystem', path: join(dir, 'repo') },
        { log: silentLogger() },
      );
    } else {
      bucket = await newBucket({ prefix: 'bo/' });
      storage = createS3Storage('repo', bucket.parsed, { log: silentLogger() });
    }
  });
  afterAll(async () => {
    await storage?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await bucket?.destroy();
  });

  it.skipIf(skip)('lets exactly one of many concurrent contenders win', async () => {
    const s = scope();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => acquireLock(deps(), s, { purpose: 'backup', runId: `c${i}` })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.every((r) => r.reason instanceof LockBusyError)).toBe(true);
    expect(String(lost[0]!.reason.message)).toMatch(new RegExp(`${s} is locked by backup on ${hostname()}`));
    const views = await listLocks(storage, new Date());
    expect(views.find((v) => v.scope === s)).toMatchObject({ status: 'held', epoch: 1 });
    await won[0]!.value.release();
    expect((await listLocks(storage, new Date())).find((v) => v.scope === s)).toMatchObject({
      status: 'released',
    });
    // Released: the next run takes it at once, in a new epoch.
    const next = await acquireLock(deps(), s, { purpose: 'prune' });
    expect(next.epoch).toBe(2);
    await next.release();
  });

  it.skipIf(skip)(
    'takes over a stale lock (its TTL expired), logs it, and removes the old epoch',
    async () => {
      const s = scope();
      const dead = fakeOwner('crashed');
      await storage.put(
        lockEpochKey(s, 1),
        Buffer.from(JSON.stringify(record(s, 1, dead, new Date(Date.now() - 60_000)))),
      );
      const { log, lines } = capture();
      const lock = await acquireLock(deps(systemClock, log), s, { purpose: 'prune' });
      expect(lock.epoch).toBe(2);
      expect(lines.find((l) => l.msg === 'Taking over a stale lock')).toMatchObject({
        scope: s,
        epoch: 1,
        holder: { runId: 'crashed' },
      });
      expect(await storage.stat(lockEpochKey(s, 1))).toBeUndefined();
      await lock.release();
    },
  );

  it.skipIf(skip)('lets exactly one of many contenders take over the same stale lock', async () => {
    const s = scope();
    await storage.put(
      lockEpochKey(s, 1),
      Buffer.from(JSON.stringify(record(s, 1, fakeOwner('gone'), new Date(Date.now() - 60_000)))),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => acquireLock(deps(), s, { purpose: 'backup' })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(won[0]!.value.epoch).toBe(2);
    await won[0]!.value.release();
  });

  it.skipIf(skip)(
    'respects a live lock within the clock-skew allowance, and takes a dead local owner over at once',
    async () => {
      const s = scope();
      // Expired 5 s ago by its own clock: still inside the 30 s skew allowance → busy.
      await storage.put(
        lockEpochKey(s, 1),
        Buffer.from(JSON.stringify(record(s, 1, fakeOwner('skewed'), new Date(Date.now() - 5_000)))),
      );
      await expect(acquireLock(deps(), s, { purpose: 'backup' })).rejects.toBeInstanceOf(LockBusyError);
      // Far from expiry, but its owner is a process of this machine that no longer exists.
      const s2 = scope();
      const pid = spawnSync('true').pid!;
      const bootId = currentBootId();
      const owner = fakeOwner('killed', { host: hostname(), pid, ...(bootId ? { bootId } : {}) });
      await storage.put(
        lockEpochKey(s2, 1),
        Buffer.from(JSON.stringify(record(s2, 1, owner, new Date(Date.now() + 600_000)))),
      );
      if (!bootId) return; // no /proc boot id: only the TTL frees it
      const lock = await acquireLock(deps(), s2, { purpose: 'backup' });
      expect(lock.epoch).toBe(2);
      await lock.release();
    },
  );

  it.skipIf(skip)(
    'stays held past its TTL while the heartbeat refreshes it, and is free once released',
    async () => {
      const s = scope();
      const lock = await acquireLock(deps(), s, { purpose: 'backup', ttlMs: 2000, heartbeatMs: 200 });
      await new Promise((r) => setTimeout(r, 4500)); // over two TTLs: alive only thanks to the heartbeat
      expect(lock.signal.aborted).toBe(false);
      await expect(acquireLock(deps(), s, { purpose: 'prune', skewMs: 0 })).rejects.toBeInstanceOf(
        LockBusyError,
      );
      const waiting = acquireLock(deps(), s, { purpose: 'prune', skewMs: 0, waitMs: 30_000, pollMs: 50 });
      await lock.release();
      const next = await waiting;
      expect(next.epoch).toBe(2);
      await next.release();
    },
  );

  it.skipIf(skip)('tells a holder that stalled past its TTL that it lost the lock', async () => {
    const s = scope();
    const holder = await acquireLock(deps(), s, { purpose: 'backup', ttlMs: 60_000, heartbeatMs: 3_600_000 });
    // Another machine, whose clock is 2 minutes ahead, sees it expired and takes over.
    const later: Clock = { now: () => new Date(Date.now() + 120_000), sleep: systemClock.sleep };
    const other = await acquireLock(deps(later), s, { purpose: 'prune', skewMs: 0 });
    expect(other.epoch).toBe(2);
    await expect(holder.refresh()).rejects.toBeInstanceOf(LockLostError);
    expect(holder.signal.aborted).toBe(true);
    expect(holder.signal.reason).toBeInstanceOf(LockLostError);
    await holder.release(); // must not touch the new owner's lock
    expect(
      (await listLocks(storage, new Date(Date.now() + 120_000), { skewMs: 0 })).find((v) => v.scope === s),
    ).toMatchObject({
      status: 'held',
      epoch: 2,
    });
    await other.release();
  });
});
