import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { type UploadTuning, uploadMultipart } from '../../../src/storage/multipart.ts';
import { createPartReader } from '../../../src/storage/parts.ts';

/** A fake S3 client (pure unit: no network) that records concurrency and bytes in flight. */
function fakeClient(opts: { failPart?: number } = {}) {
  const calls: string[] = [];
  let inflight = 0;
  let inflightBytes = 0;
  const peak = { parts: 0, bytes: 0 };
  const client = {
    async send(cmd: unknown, o: { abortSignal?: AbortSignal } = {}) {
      if (cmd instanceof CreateMultipartUploadCommand) return { UploadId: 'u1' };
      if (cmd instanceof UploadPartCommand) {
        const { PartNumber, Body } = cmd.input as { PartNumber: number; Body: Buffer };
        calls.push(`part ${PartNumber}`);
        inflight++;
        inflightBytes += Body.length;
        peak.parts = Math.max(peak.parts, inflight);
        peak.bytes = Math.max(peak.bytes, inflightBytes);
        try {
          await new Promise((r) => setTimeout(r, 2));
          o.abortSignal?.throwIfAborted();
          if (PartNumber === opts.failPart) {
            throw Object.assign(new Error('Access Denied'), {
              name: 'AccessDenied',
              $metadata: { httpStatusCode: 403 },
            });
          }
          return { ETag: `"${createHash('md5').update(Body).digest('hex')}"` };
        } finally {
          inflight--;
          inflightBytes -= Body.length;
        }
      }
      if (cmd instanceof CompleteMultipartUploadCommand) {
        calls.push('complete');
        return {};
      }
      if (cmd instanceof AbortMultipartUploadCommand) {
        calls.push('abort');
        return {};
      }
      throw new Error('unexpected command');
    },
  };
  return { client: client as unknown as S3Client, calls, peak };
}

async function* source(total: number, chunk = 300): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < total; sent += chunk) yield Buffer.alloc(Math.min(chunk, total - sent), 7);
}

async function run(total: number, tuning: Partial<UploadTuning>, fake = fakeClient()) {
  const t: UploadTuning = {
    partSize: () => 1000,
    partConcurrency: 4,
    maxBufferedBytes: 1e9,
    partAttempts: 1,
    retryDelayMs: 1,
    ...tuning,
  };
  const reader = createPartReader(source(total), 5);
  const first = await reader.read(t.partSize(1));
  const ac = new AbortController();
  const target = { client: fake.client, bucket: 'b', key: 'k', log: silentLogger(), params: {} };
  const where = { name: 's', endpoint: 'http://s3', bucket: 'b' };
  await uploadMultipart({ ...target, where }, first, reader, { ifNoneMatch: false }, t, {
    signal: ac.signal,
    abort: () => ac.abort(),
  });
  return fake;
}

describe('uploadMultipart', () => {
  it('keeps at most partConcurrency parts in flight', async () => {
    const { peak, calls } = await run(20_000, { partConcurrency: 3 });
    expect(peak.parts).toBe(3);
    expect(calls.filter((c) => c.startsWith('part'))).toHaveLength(20);
    expect(calls.at(-1)).toBe('complete');
  });

  it('caps the bytes held by parts in flight plus the part being filled', async () => {
    // Budget 2500 with 1000-byte parts: a part is read only while in flight + it fit in 2500.
    const { peak } = await run(20_000, { partConcurrency: 4, maxBufferedBytes: 2500 });
    expect(peak.parts).toBe(2);
    expect(peak.bytes).toBeLessThanOrEqual(2500);
  });

  it('allows two parts when a single part is larger than the byte budget', async () => {
    const { peak } = await run(20_000, { partConcurrency: 4, maxBufferedBytes: 10 });
    expect(peak.parts).toBe(2);
    expect(peak.bytes).toBe(2000);
  });

  it('follows a growing schedule', async () => {
    const { calls } = await run(7000, { partSize: (n) => (n <= 2 ? 1000 : 2000) });
    expect(calls).toEqual(['part 1', 'part 2', 'part 3', 'part 4', 'part 5', 'complete']);
  });

  it('aborts the upload on a failed part and reports the failure, not the cancellation', async () => {
    const fake = fakeClient({ failPart: 3 });
    const err = await run(20_000, {}, fake).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toMatch(/S3 rejected the credentials: AccessDenied/);
    expect(fake.calls).toContain('abort');
    expect(fake.calls).not.toContain('complete');
  });
});
