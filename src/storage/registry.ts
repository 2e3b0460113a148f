import type { StorageTarget } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { createFsStorage } from './fs.ts';
import { createS3Storage } from './s3.ts';
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
  s3: createS3Storage,
  filesystem: createFsStorage,
};

export function createStorage(name: string, cfg: StorageTarget, deps: StorageDeps): Storage {
  const factory = storageFactories[cfg.type] as (n: string, c: StorageTarget, d: StorageDeps) => Storage;
  return factory(name, cfg, deps);
}
