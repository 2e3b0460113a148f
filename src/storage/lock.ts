/**
 * Locks in storage, so a prune and a backup of the same job never overlap, also across daemons
 * sharing one bucket. Built only on what every Storage offers: create-only writes
 * (`ifNoneMatch`: S3 If-None-Match: *, filesystem link/EEXIST), plain writes, list and delete.
 *
 * Protocol (one folder per scope, one object per *epoch*: `_bo/locks/<scope>/<epoch>.json`):
 * - The holder of a scope is the owner of its highest epoch, unless that record is released or
 *   stale (expired longer than the clock-skew allowance ago, or its owner is a dead process on
 *   this very machine).
 * - Acquire: list the scope. Highest epoch held → busy (wait and retry, or LockBusyError).
 *   None, released or stale → create epoch+1 with a create-only write. Exactly one contender can
 *   create a given key, so exactly one wins each takeover; the others see AlreadyExists and
 *   re-read. Then list again: a higher epoch means a slow contender lost to a newer round (it
 *   acted on an old view), so it withdraws. Once the heartbeat runs, older epochs are deleted;
 *   the highest is never deleted (release only marks it released), so an epoch key is never
 *   created twice.
 * - Heartbeat: only the creator of an epoch ever writes its key, so refreshing is a plain
 *   overwrite with a later expiry, done every `heartbeatMs` after checking no higher epoch
 *   exists. If a refresh fails until the lock's own expiry, or a higher epoch appears, the
 *   holder's `signal` aborts with LockLostError and the job stops: a lease is only a lease.
 * - Nobody ever has to unlock by hand: a crashed holder's lock goes stale after its TTL.
 */
import { randomUUID } from 'node:crypto';
import { text } from 'node:stream/consumers';
import type { Clock } from '../clock.ts';
import { formatDuration } from '../config/duration.ts';
import { AlreadyExistsError, errorMessage, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { lockEpochKey, lockScopeFolder, parseLockEpochKey } from './layout.ts';
import {
  describeOwner,
  LockBusyError,
  LockLostError,
  type LockOwner,
  LockRecord,
  type LockStatus,
  localOwner,
  lockStatus,
} from './lock-record.ts';
import type { ObjectInfo, Storage } from './storage.ts';

export interface LockDeps {
  storage: Storage;
  clock: Clock;
  log: Logger;
}

export interface LockOptions {
  purpose: string;
  runId?: string;
  /** Lease length; a crashed holder blocks others for at most this (+ skew). Default 2 min. */
  ttlMs?: number;
  /** Refresh period; default a quarter of the TTL. */
  heartbeatMs?: number;
  /** Allowance for clock differences between machines. Default 30 s. */
  skewMs?: number;
  /** How long to wait for a busy lock before giving up; default 0 (fail at once). */
  waitMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** For tests: who we claim to be. */
  owner?: LockOwner;
  /** For tests: judge local owners dead or alive. */
  deadHere?: (o: LockOwner) => boolean;
}

export interface HeldLock {
  scope: string;
  epoch: number;
  key: string;
  /** Aborts (reason: LockLostError) when the lock is lost; run the guarded work under it. */
  signal: AbortSignal;
  /** Refreshes now (the heartbeat does this on its own). */
  refresh(): Promise<void>;
  /** Stops the heartbeat and marks the lock released. Idempotent; never throws. */
  release(): Promise<void>;
}

export const DEFAULT_LOCK_TTL_MS = 120_000;
export const DEFAULT_LOCK_SKEW_MS = 30_000;

export async function acquireLock(deps: LockDeps, scope: string, opts: LockOptions): Promise<HeldLock> {
  const { storage, clock, log } = deps;
  const ttlMs = opts.ttlMs ?? DEFAULT_LOCK_TTL_MS;
  const skewMs = opts.skewMs ?? DEFAULT_LOCK_SKEW_MS;
  const owner = opts.owner ?? localOwner(opts.runId ?? randomUUID(), opts.purpose);
  const deadline = clock.now().getTime() + (opts.waitMs ?? 0);

  // Rounds lost to another contender; a listing that never shows the winner must not spin forever.
  let contended = 0;
  let waited = 0;
  const judge = { ttlMs, skewMs, deadHere: opts.deadHere, signal: opts.signal };
  for (;;) {
    opts.signal?.throwIfAborted();
    if (contended > 100)
      throw new LockBusyError(`${scope}: too much contention, the lock did not settle`, undefined);
    const top = await currentLock(storage, scope, clock.now(), judge);
    if (top?.status === 'held') {
      const now = clock.now().getTime();
      if (now >= deadline) throw busy(scope, top.record);
      if (!waited++)
        log.info({ scope, holder: top.record?.owner, waitMs: deadline - now }, 'Waiting for a busy lock');
      // Jittered: a fixed period started on a schedule's second can fall, poll after poll, inside
      // another schedule's hold (a prune waiting 30 min on a backup that runs every 2 s).
      const pollMs = (opts.pollMs ?? 2000) * (0.5 + Math.random());
      await clock.sleep(Math.min(pollMs, Math.max(1, deadline - now)), opts.signal);
      continue;
    }
    if (top?.status === 'stale') {
      const rec = top.record;
      log.warn(
        { scope, epoch: top.epoch, holder: rec?.owner, expiresAt: rec?.expiresAt },
        'Taking over a stale lock',
      );
    }
    const epoch = (top?.epoch ?? 0) + 1;
    const now = clock.now();
    const record: LockRecord = {
      format: 'bo-lock',
      version: 1,
      scope,
      epoch,
      owner,
      acquiredAt: now.toISOString(),
      refreshedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
      ttlMs,
      released: false,
    };
    try {
      await storage.put(lockEpochKey(scope, epoch), body(record), { ifNoneMatch: true, signal: opts.signal });
    } catch (err) {
      if (err instanceof AlreadyExistsError) {
        contended++;
        continue; // another contender won this round: re-read
      }
      throw err;
    }
    const after = await listEpochs(storage, scope, opts.signal);
    if (after.some((e) => e.epoch > epoch)) {
      await storage.delete(lockEpochKey(scope, epoch)).catch(() => {});
      contended++;
      continue; // we acted on an old view; a newer round exists
    }
    log.debug({ scope, epoch }, 'Lock acquired');
    const held = startHolding(deps, record, opts.heartbeatMs ?? Math.floor(ttlMs / 4));
    await removeOld(
      deps,
      after,
      epoch,
      opts.signal ? AbortSignal.any([held.signal, opts.signal]) : held.signal,
    );
    return held;
  }
}

/**
 * Deletes the epochs below ours, under our heartbeat: in a versioned bucket an epoch holds one
 * version per heartbeat of its run (~1,200 for a 10-hour backup), and purging them can outlast
 * a lease. Failures only leave garbage that the next acquire removes.
 */
async function removeOld(deps: LockDeps, epochs: EpochRef[], ours: number, signal: AbortSignal) {
  for (const old of epochs) {
    if (old.epoch >= ours || signal.aborted) return;
    await deps.storage
      .delete(old.key)
      .catch((e) => deps.log.debug({ key: old.key, err: errorMessage(e) }, 'Cannot remove old lock epoch'));
  }
}

function startHolding(deps: LockDeps, initial: LockRecord, heartbeatMs: number): HeldLock {
  const { storage, clock, log } = deps;
  const key = lockEpochKey(initial.scope, initial.epoch);
  const lost = new AbortController();
  const stop = new AbortController();
  let current = initial;
  let released = false;

  let inflight: Promise<unknown> = Promise.resolve();
  const refresh = async (signal?: AbortSignal) => {
    const epochs = await listEpochs(storage, current.scope, signal);
    const higher = epochs.find((e) => e.epoch > current.epoch);
    if (higher) {
      const by = await readRecord(storage, higher);
      throw new LockLostError(
        `lock ${current.scope} was taken over${by ? ` by ${describeOwner(by.owner)}` : ''}`,
      );
    }
    const now = clock.now();
    const next = {
      ...current,
      refreshedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + current.ttlMs).toISOString(),
    };
    await storage.put(key, body(next), signal ? { signal } : {});
    current = next;
  };

  /** One refresh, given up (and the lock lost) if it has not succeeded when the lease ends. */
  const refreshBeforeExpiry = async () => {
    const ac = new AbortController();
    const attempt = refresh(ac.signal);
    inflight = attempt.catch(() => {});
    const left = Math.max(0, Date.parse(current.expiresAt) - clock.now().getTime());
    const watchdog = clock.sleep(left, AbortSignal.any([stop.signal, ac.signal])).then(
      () => 'expired' as const,
      () => 'done' as const,
    );
    try {
      if ((await Promise.race([attempt.then(() => 'done' as const), watchdog])) === 'expired') {
        throw new Error('no answer from the storage before the lease ended');
      }
    } finally {
      ac.abort();
    }
  };

  const beat = async () => {
    while (!stop.signal.aborted && !lost.signal.aborted) {
      try {
        await clock.sleep(heartbeatMs, stop.signal);
      } catch {
        return;
      }
      try {
        await refreshBeforeExpiry();
      } catch (err) {
        if (err instanceof LockLostError) lost.abort(err);
        else if (clock.now().getTime() >= Date.parse(current.expiresAt)) {
          lost.abort(
            new LockLostError(
              `lock ${current.scope} expired: it could not be refreshed (${errorMessage(err)})`,
            ),
          );
        } else log.warn({ scope: current.scope, err: errorMessage(err) }, 'Lock refresh failed; retrying');
      }
    }
  };
  void beat();
  lost.signal.addEventListener(
    'abort',
    () => log.error({ scope: current.scope, err: errorMessage(lost.signal.reason) }, 'Lock lost'),
    {
      once: true,
    },
  );

  return {
    scope: initial.scope,
    epoch: initial.epoch,
    key,
    signal: lost.signal,
    refresh: async () => {
      try {
        const attempt = refresh();
        inflight = attempt.catch(() => {});
        await attempt;
      } catch (err) {
        if (err instanceof LockLostError) lost.abort(err);
        throw err;
      }
    },
    async release() {
      if (released) return;
      released = true;
      stop.abort();
      await inflight; // a refresh landing after the release would revive the lock
      if (lost.signal.aborted) return;
      const now = clock.now().toISOString();
      try {
        await storage.put(key, body({ ...current, released: true, refreshedAt: now, expiresAt: now }));
        log.debug({ scope: current.scope, epoch: current.epoch }, 'Lock released');
      } catch (err) {
        log.warn(
          { scope: current.scope, err: errorMessage(err) },
          'Cannot release lock; it expires by itself',
        );
      }
    },
  };
}

interface EpochRef {
  key: string;
  epoch: number;
  info: ObjectInfo;
}

async function listEpochs(storage: Storage, scope: string, signal?: AbortSignal): Promise<EpochRef[]> {
  const out: EpochRef[] = [];
  for await (const info of storage.list(lockScopeFolder(scope), signal ? { signal } : {})) {
    const p = parseLockEpochKey(info.key);
    if (p && p.scope === scope) out.push({ key: info.key, epoch: p.epoch, info });
  }
  return out.sort((a, b) => a.epoch - b.epoch);
}

export interface CurrentLock {
  epoch: number;
  key: string;
  /** Undefined when unreadable: not a lock record, or removed meanwhile. */
  record: LockRecord | undefined;
  status: LockStatus;
}

export interface JudgeOptions {
  /** Lease assumed for an unreadable record, whose own TTL is unknown. Default 2 min. */
  ttlMs?: number | undefined;
  skewMs?: number | undefined;
  deadHere?: ((o: LockOwner) => boolean) | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The scope's current lock (its highest epoch) and how a contender sees it at `now`, or
 * undefined when there is none: the one reading of lock state, for acquiring, `bo locks` and
 * snapshot pruning. An unreadable record (should not happen: writes are atomic) is held for one
 * TTL (+ skew) from its write, then stale. A top epoch removed between listing and reading (a
 * contender withdrew) means the listing is outdated: it is listed once more.
 */
export async function currentLock(
  storage: Storage,
  scope: string,
  now: Date,
  opts: JudgeOptions = {},
): Promise<CurrentLock | undefined> {
  const skewMs = opts.skewMs ?? DEFAULT_LOCK_SKEW_MS;
  for (let retry = true; ; retry = false) {
    const top = (await listEpochs(storage, scope, opts.signal)).at(-1);
    if (!top) return undefined;
    const got = await readEpoch(storage, top.key);
    if (got === 'gone' && retry) continue;
    const record = got === 'gone' ? undefined : got;
    const status = record
      ? lockStatus(record, now, skewMs, opts.deadHere)
      : unreadableStatus(top, now, (opts.ttlMs ?? DEFAULT_LOCK_TTL_MS) + skewMs);
    return { epoch: top.epoch, key: top.key, record, status };
  }
}

function unreadableStatus(top: EpochRef, now: Date, ms: number): LockStatus {
  return now.getTime() > top.info.lastModified.getTime() + ms ? 'stale' : 'held';
}

/** The record, or undefined when it is gone or not a lock record. */
export async function readRecord(storage: Storage, ref: { key: string }): Promise<LockRecord | undefined> {
  const got = await readEpoch(storage, ref.key);
  return got === 'gone' ? undefined : got;
}

async function readEpoch(storage: Storage, key: string): Promise<LockRecord | 'gone' | undefined> {
  let raw: string;
  try {
    raw = await text(await storage.get(key));
  } catch (err) {
    if (err instanceof NotFoundError) return 'gone';
    throw err;
  }
  try {
    const r = LockRecord.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

function busy(scope: string, rec: LockRecord | undefined): LockBusyError {
  if (!rec) return new LockBusyError(`${scope} is locked (lock record unreadable)`, undefined);
  return new LockBusyError(
    `${scope} is locked by ${describeOwner(rec.owner)} since ${rec.acquiredAt}`,
    rec,
    `it is released when that run ends; if its owner died, it expires by itself ${formatDuration(rec.ttlMs)} after its last heartbeat (${rec.expiresAt})`,
  );
}

function body(rec: LockRecord): Buffer {
  return Buffer.from(`${JSON.stringify(rec, null, 2)}\n`);
}
