import { BoError, CancelledError, isAbortError, StorageError } from '../errors.ts';

/** What an S3 error message needs to name: the storage, its endpoint and bucket. */
export interface S3Where {
  name: string;
  endpoint: string;
  bucket: string;
}

const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
  'Forbidden',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'TimeoutError',
  'RequestTimeout',
]);

/** The S3 error code (`NoSuchBucket`, …) or errno code (`ECONNREFUSED`) of an SDK error. */
export function errorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { Code?: string; code?: string; errors?: unknown[] };
  if (e.code) return e.code;
  if (e.Code) return e.Code;
  if (e.name && e.name !== 'Error' && e.name !== 'AggregateError') return e.name;
  // Happy-eyeballs connects fail with an AggregateError of per-address errors.
  const first = e.errors?.[0] ?? e.cause;
  return first === undefined ? undefined : errorCode(first);
}

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export function noSuchBucket(where: S3Where, cause: unknown): StorageError {
  return new StorageError(`bucket "${where.bucket}" does not exist at ${where.endpoint}`, {
    cause,
    hint: `create it, or fix "bucket" in storage "${where.name}"`,
  });
}

/** A GET of an object in an archive class (GLACIER, DEEP_ARCHIVE): S3 answers 403, not a credentials problem. */
export function archivedObject(url: string, err: unknown): StorageError {
  const cls = (err as { StorageClass?: string }).StorageClass ?? 'an archive class';
  return new StorageError(`${url} is in storage class ${cls} and must be restored before it can be read`, {
    cause: err,
    hint: 'restore it first (`aws s3api restore-object`), then retry once the restore has finished',
  });
}

/**
 * Turns an SDK failure into a message the user can act on: missing bucket, rejected
 * credentials, unreachable endpoint. Aborts become CancelledError; bo errors pass through.
 */
export function s3Error(err: unknown, where: S3Where, what: string, signal?: AbortSignal): BoError {
  if (err instanceof BoError) return err;
  if (signal?.aborted || isAbortError(err)) return new CancelledError();
  const code = errorCode(err) ?? 'error';
  const status = httpStatus(err);
  const message = err instanceof Error ? err.message : String(err);
  const detail = message && message !== code ? `${code}: ${message}` : code;
  if (code === 'NoSuchBucket') return noSuchBucket(where, err);
  if (code === 'InvalidRequest' && /object ?lock/i.test(message)) {
    return new StorageError(`bucket "${where.bucket}" does not have Object Lock enabled (${what})`, {
      cause: err,
      hint: `remove objectLock from storage "${where.name}", or use a bucket created with Object Lock`,
    });
  }
  if (CREDENTIAL_CODES.has(code) || status === 403) {
    return new StorageError(`S3 rejected the credentials: ${detail} (${what}, ${where.endpoint})`, {
      cause: err,
      hint: `check accessKeyId/secretAccessKey and the bucket policy for storage "${where.name}"`,
    });
  }
  if (code === 'CredentialsProviderError') {
    return new StorageError(`no S3 credentials for storage "${where.name}": ${message}`, {
      cause: err,
      hint: 'set accessKeyId and secretAccessKey, or configure the AWS default credential chain',
    });
  }
  if (NETWORK_CODES.has(code) || /socket hang up|timed? ?out/i.test(message)) {
    return new StorageError(`cannot reach S3 endpoint ${where.endpoint}: ${detail} (${what})`, {
      cause: err,
    });
  }
  return new StorageError(`S3 ${what} failed: ${detail}${status ? ` (HTTP ${status})` : ''}`, { cause: err });
}
