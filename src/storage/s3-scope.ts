import { createHash } from 'node:crypto';
import type { S3Storage } from '../config/schema.ts';
import { normalizePrefix } from './keys.ts';
import type { ServerSide } from './storage.ts';

/**
 * What makes two S3 storages able to copy server-side: one endpoint (AWS counts as one, across
 * regions) and the same credentials, so the target's request may read the source. The scope is
 * a hash: it never shows a secret. Pure, so the lazy storage knows it before loading the SDK.
 */
export function s3ServerSide(cfg: S3Storage): ServerSide {
  const creds = [cfg.accessKeyId, cfg.secretAccessKey, cfg.sessionToken].map((s) => s?.reveal() ?? '');
  const endpoint = cfg.endpoint ?? 'aws';
  const scope = createHash('sha256')
    .update(JSON.stringify([endpoint, ...creds]))
    .digest('hex');
  const prefix = normalizePrefix(cfg.prefix);
  return { scope, locate: (key) => ({ bucket: cfg.bucket, key: prefix + key }) };
}
