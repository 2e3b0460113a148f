import { Transform } from 'node:stream';
import { chainStreams } from '../archive/chain.ts';
import type { Storage } from './storage.ts';
import { passThrough } from './wrap.ts';

/** What a restore (or any reader) took from a storage. */
export interface ReadCounter {
  /** Bytes delivered by `get`, ranged or whole. */
  bytes: number;
  /** `get` requests made. */
  requests: number;
}

/** A storage that counts the requests and bytes its reads deliver (`bo restore --json`: `read`). */
export function countingStorage(inner: Storage, counter: ReadCounter): Storage {
  return {
    ...passThrough(inner),
    async get(key, opts) {
      counter.requests++;
      const body = await inner.get(key, opts);
      return chainStreams(body, [
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            counter.bytes += chunk.length;
            cb(null, chunk);
          },
        }),
      ]);
    },
  };
}
