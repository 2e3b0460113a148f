// Placeholder until the storage backend lands.
import type { FilesystemStorage } from '../config/schema.ts';
import type { StorageDeps } from './registry.ts';
import type { Storage } from './storage.ts';

export function createFsStorage(_name: string, _cfg: FilesystemStorage, _deps: StorageDeps): Storage {
  throw new Error('not implemented');
}
