/**
 * Restores from the S3-compatible server (moto), measured in the same run, side by side:
 *
 *   single file  one 1 MB file from a ≥ 4 GB archive: bo reading the archive whole (`--whole`,
 *                how every restore read before seekable archives) against bo seeking to its
 *                frame. Bytes read from storage come from bo's own counter (`--json`: read).
 *                In moto and, when installed, s3rver: moto serves a ranged GET by reading the
 *                whole object (0.5 s per GiB of the volume, whatever the range); s3rver, like
 *                S3, reads only the range. The floor (one 1 KB ranged GET) is printed beside.
 *   full         the bench dataset restored whole: bo against the hand-written baseline
 *                `aws s3 cp s3://…/archive.tar.zst - | zstd -d | tar -x` from the same bucket.
 *
 *   node bench/restore.ts [--big=4.2] (GB of incompressible data for the single-file archive)
 *                         [--only=single|full]
 * Data is generated once under bench/.data/ (~5 GB); the bucket lives in moto for the run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { awsCli } from '../tests/fixtures/aws-cli.ts';
import { S3_CREDENTIALS, type S3Server, startS3rver, startS3Server } from '../tests/fixtures/s3-server.ts';
import { ensureDataset } from './lib/dataset.ts';
import { benchEnv, benchS3Client, mbps, measure } from './lib/measure.ts';

const root = new URL('./.data/', import.meta.url).pathname;
const bo = new URL('../bin/bo', import.meta.url).pathname;
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const bigGB = Number(arg('big') ?? 4.2);
const only = arg('only');
const MB = 1e6;

/** ~`gb` GB of random data in 64 MB files, and five 1 MB files spread through it. */
function ensureBig(gb: number): { dir: string; bytes: number; target: string } {
  const dir = join(root, `big-${gb}`);
  const count = Math.ceil((gb * 1e9) / (64 * MB));
  const target = join(dir, 'd', 'mail-2.bin');
  if (!existsSync(join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'd'), { recursive: true });
    for (let i = 0; i < count; i++) {
      writeFileSync(join(dir, 'd', `bulk-${String(i).padStart(3, '0')}.bin`), randomBytes(64 * MB));
      if (i % Math.floor(count / 5) === 0)
        writeFileSync(join(dir, 'd', `mail-${i / Math.floor(count / 5)}.bin`), randomBytes(MB));
    }
    writeFileSync(join(dir, '.complete'), '');
  }
  return { dir, bytes: count * 64 * MB + 5 * MB, target };
}

const moto = await startS3Server();
const aws = awsCli();
if (moto?.kind !== 'moto' || !aws) throw new Error('bench needs moto and the aws CLI: run bash .ci/run once');

interface Server {
  s3: S3Server;
  client: S3Client;
  env: NodeJS.ProcessEnv;
}
function server(s3: S3Server): Server {
  const creds = S3_CREDENTIALS[s3.kind];
  const client = benchS3Client(s3.endpoint, creds);
  const env = benchEnv(creds);
  return { s3, client, env };
}
const load = loadavg()[0]!.toFixed(1);
const out: string[] = [];
const work = join(root, `restore-run-${process.pid}`);
mkdirSync(work, { recursive: true });

/** A config with one job backing up `dir` (host local) into a fresh bucket; returns its path. */
async function setup(srv: Server, name: string, dir: string): Promise<{ config: string; bucket: string }> {
  const bucket = `bench-restore-${name}-${Date.now()}`;
  await srv.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const config = join(work, `${name}.yaml`);
  writeFileSync(
    config,
    stringify({
      stateDir: join(work, `state-${name}`),
      storage: {
        s3: {
          type: 's3',
          endpoint: srv.s3.endpoint,
          bucket,
          forcePathStyle: true,
          accessKeyId: { env: 'BENCH_KEY' },
          secretAccessKey: { env: 'BENCH_SECRET' },
          // Smaller than the 4 GiB default: moto holds each object it completes in memory.
          volumeSize: '1GiB',
        },
      },
      jobs: { [name]: { host: 'local', paths: [dir], storage: 's3', incremental: false } },
    }),
  );
  console.error(`# backing up ${dir} into ${bucket}`);
  const b = await measure(bo, ['--config', config, 'backup', 'now', name, '--json'], srv.env);
  if (b.code !== 0) throw new Error(`backup failed: ${b.stderr}`);
  return { config, bucket };
}

async function restore(srv: Server, config: string, args: string[]) {
  const dest = join(work, `r-${Math.random().toString(36).slice(2)}`);
  const m = await measure(bo, ['--config', config, 'restore', ...args, '--to', dest, '--json'], srv.env);
  if (m.code !== 0) throw new Error(`restore failed: ${m.stderr}`);
  rmSync(dest, { recursive: true, force: true });
  return { m, result: JSON.parse(m.stdout) as { read: { bytes: number; requests: number }; bytes: number } };
}

/** Seconds one 1 KB ranged GET of the archive's first volume takes: the server's floor per request. */
async function rangedGetFloor(srv: Server, bucket: string): Promise<number> {
  const list = await srv.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  const key = list.Contents!.find((o) => o.Key!.endsWith('/archive.tar.zst'))!.Key!;
  const t0 = performance.now();
  const r = await srv.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-1023' }));
  await r.Body!.transformToByteArray();
  return (performance.now() - t0) / 1000;
}

async function singleFile(srv: Server): Promise<void> {
  const big = ensureBig(bigGB);
  const { config, bucket } = await setup(srv, 'big', big.dir);
  // Not execFileSync: s3rver runs in this process, and would not answer while it blocks.
  const list = JSON.parse((await measure(bo, ['--config', config, 'list', '--json'], srv.env)).stdout) as {
    backups: Array<{ storedBytes: number }>;
  };
  const archive = list.backups[0]!.storedBytes;
  const whole = await restore(srv, config, ['big', '--path', big.target, '--whole']);
  const seek = await restore(srv, config, ['big', '--path', big.target]);
  const floor = await rangedGetFloor(srv, bucket);
  const row = (name: string, r: typeof whole) =>
    `  ${name.padEnd(34)} ${(r.m.ms / 1000).toFixed(2).padStart(8)} s  ${(r.result.read.bytes / MB).toFixed(1).padStart(9)} MB  ${((100 * r.result.read.bytes) / archive).toFixed(3).padStart(8)} %  ${String(r.result.read.requests).padStart(5)}  ${(r.m.peakRss / 2 ** 20).toFixed(0).padStart(5)} MiB`;
  out.push(
    `\nsingle-file restore: 1 MB from a ${(archive / 1e9).toFixed(2)} GB archive (1 GiB volumes) in ${srv.s3.kind} (load ${load}, ${cpus().length} cores)`,
    '  what                                   wall        read from storage  of archive  GETs   peak RSS',
    row('whole archive (--whole, as before)', whole),
    row('seeking to its frame', seek),
    `  seeking: ${(whole.m.ms / seek.m.ms).toFixed(1)}x faster, ${((100 * seek.result.read.bytes) / archive).toFixed(3)} % of the archive read (targets: >= 20x, <= 1 %); one 1 KB ranged GET of a volume takes ${floor.toFixed(2)} s in ${srv.s3.kind}`,
  );
}

const s3 = server(moto);
try {
  if (only !== 'full') {
    await singleFile(s3);
    const s3rver = await startS3rver();
    if (s3rver) {
      try {
        await singleFile(server(s3rver));
      } finally {
        await s3rver.stop();
      }
    } else out.push('\n(s3rver not installed: npm install, devDependencies)');
  }
  if (only !== 'single') {
    const ds = await ensureDataset(root, 1);
    const { config, bucket } = await setup(s3, 'full', ds.dir);
    const list = JSON.parse(
      execFileSync(bo, ['--config', config, 'list', '--json'], { env: s3.env }).toString(),
    ) as {
      backups: Array<{ id: string }>;
    };
    const id = list.backups[0]!.id;
    const runs: Array<[string, Awaited<ReturnType<typeof measure>>]> = [];
    for (let i = 0; i < 2; i++) {
      const dest = join(work, `base-${i}`);
      mkdirSync(dest);
      const base = await measure(
        'sh',
        [
          '-c',
          `${aws} --endpoint-url ${s3.s3.endpoint} s3 cp s3://${bucket}/full/${id}/archive.tar.zst - | zstd -d -q | tar -x -C ${dest}`,
        ],
        s3.env,
        { tree: true },
      );
      if (base.code !== 0) throw new Error(`baseline failed: ${base.stderr}`);
      rmSync(dest, { recursive: true, force: true });
      runs.push(['baseline aws s3 cp | zstd -d | tar -x', base]);
      runs.push(['bo restore', (await restore(s3, config, ['full'])).m]);
    }
    out.push(
      `\nfull restore of the bench dataset (${(ds.bytes / 1e9).toFixed(2)} GB) from ${s3.s3.kind}, twice each, interleaved (load ${load})`,
      '  what                                       MB/s   wall      CPU (tree)  peak RSS',
      ...runs.map(
        ([name, m]) =>
          `  ${name.padEnd(40)} ${mbps(ds.bytes, m.ms).padStart(6)}  ${(m.ms / 1000).toFixed(1).padStart(6)} s  ${m.cpuSeconds.toFixed(1).padStart(7)} s  ${(m.peakRss / 2 ** 20).toFixed(0).padStart(5)} MiB`,
      ),
    );
    const best = (name: string) => Math.min(...runs.filter(([n]) => n.startsWith(name)).map(([, m]) => m.ms));
    out.push(
      `  bo / baseline throughput (best of each): ${(best('baseline') / best('bo')).toFixed(2)}x (target >= 0.9x)`,
    );
  }
} finally {
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(out.join('\n'));
