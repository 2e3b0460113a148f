import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { S3Storage } from '../../../src/config/schema.ts';
import { SecretValue } from '../../../src/config/secret.ts';
import { UsageError } from '../../../src/errors.ts';
import { md5Etag } from '../../../src/storage/multipart.ts';
import { checksumMode, createS3Client, endpointOf } from '../../../src/storage/s3-client.ts';

describe('checksumMode', () => {
  it('auto is WHEN_REQUIRED with a custom endpoint and WHEN_SUPPORTED on AWS', () => {
    expect(checksumMode({ checksums: 'auto', endpoint: 'http://minio:9000' })).toBe('WHEN_REQUIRED');
    expect(checksumMode({ checksums: 'auto', endpoint: undefined })).toBe('WHEN_SUPPORTED');
  });
  it('explicit modes win', () => {
    expect(checksumMode({ checksums: 'when-required', endpoint: undefined })).toBe('WHEN_REQUIRED');
    expect(checksumMode({ checksums: 'when-supported', endpoint: 'http://x' })).toBe('WHEN_SUPPORTED');
  });
});

describe('createS3Client', () => {
  it('names the AWS endpoint of a region', () => {
    expect(endpointOf({ endpoint: undefined, region: 'eu-west-3' })).toBe(
      'https://s3.eu-west-3.amazonaws.com',
    );
  });
  it('refuses an access key without its secret', () => {
    const cfg = parseResolved(S3Storage, { type: 's3', bucket: 'bucket' });
    cfg.accessKeyId = new SecretValue('AKIA', 'test');
    expect(() => createS3Client('s', cfg)).toThrow(UsageError);
  });
});

describe('md5Etag', () => {
  it('accepts MD5-shaped ETags only', () => {
    expect(md5Etag('"0123456789ABCDEF0123456789abcdef"', false)).toBe('0123456789abcdef0123456789abcdef');
    expect(md5Etag('"0123456789abcdef0123456789abcdef-12"', true)).toBe(
      '0123456789abcdef0123456789abcdef-12',
    );
    expect(md5Etag('"0123456789abcdef0123456789abcdef-12"', false)).toBeUndefined();
    expect(md5Etag('"kms-encrypted-etag"', false)).toBeUndefined();
    expect(md5Etag(undefined, false)).toBeUndefined();
  });
});

describe('bodies with Content-MD5', () => {
  it('are sent as UNSIGNED-PAYLOAD, so SigV4 does not hash them a second time', async () => {
    const cfg = parseResolved(S3Storage, {
      type: 's3',
      bucket: 'bkt',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
    });
    cfg.accessKeyId = new SecretValue('AKIA', 'test');
    cfg.secretAccessKey = new SecretValue('secret', 'test');
    const client = createS3Client('s', cfg);
    const seen: Array<Record<string, string>> = [];
    client.middlewareStack.add(
      () => async (args) => {
        seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return { output: { $metadata: {} }, response: {} } as never;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'capture' },
    );
    await client.send(
      new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: Buffer.from('x'), ContentMD5: 'x' }),
    );
    await client.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: Buffer.from('x') }));
    expect(seen[0]!['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(seen[0]!.authorization).toMatch(/x-amz-content-sha256/);
    expect(seen[1]!['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });
});
