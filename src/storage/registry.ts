import type { StorageTarget } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { createFsStorage } from './fs.ts';
import { normalizePrefix } from './keys.ts';
import { lazyStorage } from './lazy.ts';
import { limitedStorage, limiterFor } from './limited.ts';
import { s3ServerSide } from './s3-scope.ts';
import type { Storage } from './storage.ts';

export interface StorageDeps {
  log: Logger;
}

type Factories = {
  [T in StorageTarget['type']]: (
    name: string,
    cfg: Extract<StorageTarget, { type: T }>,
    deps: StorageDeps,
  ) => Storage;
};

/** Every storage backend bo knows, by its `type:` in the config. */
export const storageFactories: Factories = {
  s3: (name, cfg, deps) =>
    lazyStorage(
      {
        name,
        type: 's3',
        lockable: true,
        location: `s3://${cfg.bucket}/${normalizePrefix(cfg.prefix)}`,
        volumeSize: cfg.volumeSize,
        serverSide: s3ServerSide(cfg),
      },
      async () => (await import('./s3.ts')).createS3Storage(name, cfg, deps),
    ),
  filesystem: createFsStorage,
};

export function createStorage(name: string, cfg: StorageTarget, deps: StorageDeps): Storage {
  const factory = storageFactories[cfg.type] as (n: string, c: StorageTarget, d: StorageDeps) => Storage;
  const storage = factory(name, cfg, deps);
  const upload = cfg.limits?.upload;
  return upload ? limitedStorage(storage, limiterFor(upload, cfg.limits?.timezone)) : storage;
}
