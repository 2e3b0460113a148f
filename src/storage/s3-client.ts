import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3Storage } from '../config/schema.ts';
import { UsageError } from '../errors.ts';

export type ChecksumMode = 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';

/**
 * `auto` means WHEN_REQUIRED for custom endpoints: with WHEN_SUPPORTED the SDK streams bodies
 * as aws-chunked with a trailing CRC, and some S3-compatible servers store that framing verbatim
 * (s3rver stored a 3,000,000-byte stream as 3,000,046 bytes). AWS itself handles it.
 */
export function checksumMode(cfg: Pick<S3Storage, 'checksums' | 'endpoint'>): ChecksumMode {
  if (cfg.checksums === 'when-required') return 'WHEN_REQUIRED';
  if (cfg.checksums === 'when-supported') return 'WHEN_SUPPORTED';
  return cfg.endpoint ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
}

/** The endpoint as shown in messages. */
export function endpointOf(cfg: Pick<S3Storage, 'endpoint' | 'region'>): string {
  return cfg.endpoint ?? `https://s3.${cfg.region}.amazonaws.com`;
}

/**
 * One S3Client per storage target. Secrets are revealed only here, into the SDK; without them
 * the SDK default chain (env, profile, IMDS, …) is used.
 */
export function createS3Client(name: string, cfg: S3Storage): S3Client {
  if ((cfg.accessKeyId === undefined) !== (cfg.secretAccessKey === undefined)) {
    throw new UsageError(`storage ${name}: set both accessKeyId and secretAccessKey, or neither`);
  }
  const mode = checksumMode(cfg);
  // Parts in flight plus a few for concurrent small requests (head, list) share one keep-alive pool.
  const agentOpts = { keepAlive: true, maxSockets: cfg.partConcurrency + 4 };
  const client = new S3Client({
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
    ...(cfg.accessKeyId && cfg.secretAccessKey
      ? {
          credentials: {
            accessKeyId: cfg.accessKeyId.reveal(),
            secretAccessKey: cfg.secretAccessKey.reveal(),
            ...(cfg.sessionToken ? { sessionToken: cfg.sessionToken.reveal() } : {}),
          },
        }
      : {}),
    requestChecksumCalculation: mode,
    responseChecksumValidation: mode,
    // The SDK retries throttling, 5xx and network errors; multipart parts get their own retries.
    maxAttempts: 3,
    retryMode: 'standard',
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(cfg.timeout, 30_000),
      // requestTimeout bounds a whole request (a part upload included); socketTimeout bounds silence.
      requestTimeout: cfg.timeout,
      throwOnRequestTimeout: true,
      socketTimeout: cfg.timeout,
      httpAgent: new HttpAgent(agentOpts),
      httpsAgent: new HttpsAgent(agentOpts),
    }),
  });
  sendMd5BodiesUnsigned(client);
  return client;
}

/**
 * Bodies that carry Content-MD5 (every part and object bo writes) are sent as UNSIGNED-PAYLOAD:
 * otherwise SigV4 hashes each body with SHA-256 once more, a full extra pass over the archive.
 * Integrity does not suffer: Content-MD5 is a signed header, and the server rejects a body
 * that does not match it.
 */
function sendMd5BodiesUnsigned(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers;
      if (headers && Object.keys(headers).some((h) => h.toLowerCase() === 'content-md5')) {
        headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'boUnsignedMd5Payload' },
  );
}
