import type { Storage } from './storage.ts';

/**
 * A Storage whose implementation loads on first use, so commands that never touch S3 (help,
 * status, a filesystem-only config) do not load the AWS SDK (~30 MB, a third of a second).
 */
export function lazyStorage(
  info: Pick<Storage, 'name' | 'type' | 'location' | 'volumeSize' | 'serverSide' | 'lockable'>,
  load: () => Promise<Storage>,
): Storage {
  let real: Promise<Storage> | undefined;
  const get = () => {
    real ??= load();
    return real;
  };
  return {
    ...info,
    put: async (key, body, opts) => (await get()).put(key, body, opts),
    get: async (key, opts) => (await get()).get(key, opts),
    stat: async (key) => (await get()).stat(key),
    async *list(prefix, opts) {
      yield* (await get()).list(prefix, opts);
    },
    delete: async (key) => (await get()).delete(key),
    async *listIncomplete(prefix) {
      yield* (await get()).listIncomplete(prefix);
    },
    abortIncomplete: async (upload) => (await get()).abortIncomplete(upload),
    retention: async (key) => (await get()).retention(key),
    copyIn: async (from, fromKey, key, opts) => (await get()).copyIn(from, fromKey, key, opts),
    requestRestore: async (key, opts) => (await get()).requestRestore(key, opts),
    extendRetention: async (key, until, opts) => (await get()).extendRetention(key, until, opts),
    async close() {
      if (real) await (await real).close();
    },
  };
}
