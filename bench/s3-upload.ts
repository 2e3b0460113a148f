/**
 * S3 upload throughput and memory: bo's streaming multipart uploader against lib-storage's
 * `Upload` (8 MiB parts, queue 4) as a baseline, same generated stream, same moto server. Each
 * upload runs in a fresh child process so its peak RSS is its own.
 *   node bench/s3-upload.ts [MiB]   (default 1024)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parseResolved } from '../src/config/resolve-secrets.ts';
import { S3Storage } from '../src/config/schema.ts';
import { SecretValue } from '../src/config/secret.ts';
import { silentLogger } from '../src/log.ts';
import { createS3Storage } from '../src/storage/s3.ts';
import { startS3Server } from '../tests/fixtures/s3-server.ts';
import { benchS3Client } from './lib/measure.ts';

const MiB = 1024 * 1024;

/** `total` bytes in 1 MiB chunks cut from one random 8 MiB block (generation costs ~nothing). */
function generated(total: number): Readable {
  const block = randomBytes(8 * MiB);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(MiB, total - sent);
      const off = (sent / MiB) % 8;
      this.push(block.subarray(off * MiB, off * MiB + n));
      sent += n;
    },
  });
}

async function child(which: string, endpoint: string, bucket: string, total: number): Promise<void> {
  const t0 = performance.now();
  if (which === 'bo') {
    const cfg = parseResolved(S3Storage, { type: 's3', endpoint, bucket, forcePathStyle: true });
    cfg.accessKeyId = new SecretValue('test', 'bench');
    cfg.secretAccessKey = new SecretValue('test', 'bench');
    const storage = createS3Storage('bench', cfg, { log: silentLogger() });
    await storage.put('bench/bo', generated(total));
    await storage.close();
  } else {
    const c = benchS3Client(endpoint, { accessKeyId: 'test', secretAccessKey: 'test' });
    await new Upload({
      client: c,
      params: { Bucket: bucket, Key: 'bench/lib', Body: generated(total) },
      partSize: 8 * MiB,
      queueSize: 4,
    }).done();
    c.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS }));
}

async function main(): Promise<void> {
  const [mode, which, endpoint, bucket, size] = process.argv.slice(2);
  if (mode === '--child' && which && endpoint && bucket && size)
    return child(which, endpoint, bucket, Number(size));
  const total = Number(mode ?? 1024) * MiB;
  const server = await startS3Server();
  if (server?.kind !== 'moto') throw new Error('moto_server is needed (see tests/fixtures/s3-server.ts)');
  try {
    const c = benchS3Client(server.endpoint, { accessKeyId: 'test', secretAccessKey: 'test' });
    await c.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const t0 = performance.now();
    for await (const _ of generated(total));
    const genMBs = total / 1e6 / ((performance.now() - t0) / 1000);
    console.log(`stream generation alone: ${genMBs.toFixed(0)} MB/s`);
    for (const which of ['lib-storage Upload (baseline)', 'bo']) {
      const key = which === 'bo' ? 'bo' : 'lib';
      const out = execFileSync(
        process.execPath,
        [import.meta.filename, '--child', key, server.endpoint, 'bench', String(total)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const r = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { seconds: number; maxRssKiB: number };
      console.log(
        `${which.padEnd(30)} ${(total / MiB).toFixed(0)} MiB in ${r.seconds.toFixed(1)} s = ${(total / 1e6 / r.seconds).toFixed(0)} MB/s, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`,
      );
      await c.send(new DeleteObjectCommand({ Bucket: 'bench', Key: `bench/${key}` }));
    }
    c.destroy();
  } finally {
    await server.stop();
  }
}

await main();
