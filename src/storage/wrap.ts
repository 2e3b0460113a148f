import type { Storage } from './storage.ts';

/**
 * A storage that does what `inner` does, for wrappers that change one or two methods (limits,
 * counters): `{ ...passThrough(inner), put: … }`.
 */
export function passThrough(inner: Storage): Storage {
  return {
    name: inner.name,
    type: inner.type,
    location: inner.location,
    volumeSize: inner.volumeSize,
    lockable: inner.lockable,
    serverSide: inner.serverSide,
    put: (key, body, opts) => inner.put(key, body, opts),
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
