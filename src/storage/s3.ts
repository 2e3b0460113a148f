// Placeholder until the storage backend lands.
import type { S3Storage } from '../config/schema.ts';
import type { StorageDeps } from './registry.ts';
import type { Storage } from './storage.ts';

export function createS3Storage(_name: string, _cfg: S3Storage, _deps: StorageDeps): Storage {
  throw new Error('not implemented');
}
