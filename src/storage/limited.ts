import { chainStreams } from '../archive/chain.ts';
import type { StorageLimits } from '../config/schema.ts';
import { rateSchedule } from '../plan/windows.ts';
import type { Storage } from './storage.ts';
import { createLimiter, createThrottle, type Limiter } from './throttle.ts';

/**
 * A storage whose uploads share one bandwidth limit (`limits.upload`): every put body, of every
 * backup and copy writing here at once, passes one limiter. Reads, server-side copies and
 * everything else pass through untouched.
 */
export function limitedStorage(inner: Storage, limiter: Limiter): Storage {
  return {
    name: inner.name,
    type: inner.type,
    location: inner.location,
    volumeSize: inner.volumeSize,
    serverSide: inner.serverSide,
    async put(key, body, opts) {
      if (Buffer.isBuffer(body)) {
        await limiter.take(body.length, opts?.signal);
        return await inner.put(key, body, opts);
      }
      return await inner.put(key, chainStreams(body, [createThrottle(limiter)]), opts);
    },
    get: (key, opts) => inner.get(key, opts),
    stat: (key) => inner.stat(key),
    list: (prefix, opts) => inner.list(prefix, opts),
    delete: (key) => inner.delete(key),
    listIncomplete: (prefix) => inner.listIncomplete(prefix),
    abortIncomplete: (upload) => inner.abortIncomplete(upload),
    retention: (key) => inner.retention(key),
    extendRetention: (key, until, opts) => inner.extendRetention(key, until, opts),
    copyIn: (from, fromKey, key, opts) => inner.copyIn(from, fromKey, key, opts),
    requestRestore: (key, opts) => inner.requestRestore(key, opts),
    close: () => inner.close(),
  };
}

/** The limiter of a `limits.upload` (or `limits.read`) setting, following its windows in real time. */
export function limiterFor(rules: NonNullable<StorageLimits['upload']>, timezone?: string): Limiter {
  const at = rateSchedule(rules, timezone);
  return createLimiter(() => at(new Date()));
}
