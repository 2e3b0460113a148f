/**
 * Backup throughput: bo over SSH into the S3-compatible server, against the hand-written
 * baseline a sysadmin would use — `ssh HOST 'tar -cf - DIR | zstd -3' | aws s3 cp - s3://…` —
 * measured in the same run on the same data. Prints MB/s, peak RSS and stored size.
 *   node bench/backup.ts [--scales 1,4]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { generateIdentity } from '../src/archive/age/index.ts';
import { awsCli } from '../tests/fixtures/aws-cli.ts';
import { S3_CREDENTIALS, startS3Server } from '../tests/fixtures/s3-server.ts';
import { startSshd } from '../tests/fixtures/sshd.ts';
import { ensureDataset } from './lib/dataset.ts';
import { type Measured, mbps, measure } from './lib/measure.ts';

const root = new URL('./.data/', import.meta.url).pathname;
const scales = (process.argv.find((a) => a.startsWith('--scales='))?.split('=')[1] ?? '1,4')
  .split(',')
  .map(Number);
const bo = new URL('../bin/bo', import.meta.url).pathname;

const s3 = await startS3Server();
// A clean /bin/sh login (no ~/.bashrc per command), as a backup user on a real server has.
const sshd = await startSshd({ cleanShell: true });
const aws = awsCli();
if (!s3 || !sshd || !aws)
  throw new Error('bench needs moto (or s3rver), sshd and the aws CLI: run bash .ci/run once');
const creds = S3_CREDENTIALS[s3.kind];
const client = new S3Client({
  endpoint: s3.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: creds,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const env = {
  ...process.env,
  BO_LOG_LEVEL: 'warn',
  BENCH_KEY: creds.accessKeyId,
  BENCH_SECRET: creds.secretAccessKey,
  AWS_ACCESS_KEY_ID: creds.accessKeyId,
  AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
};

async function storedBytes(bucket: string, prefix: string): Promise<number> {
  const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).reduce((n, o) => n + (o.Size ?? 0), 0);
}

interface Row {
  name: string;
  scale: number;
  m: Measured;
  bytes: number;
  stored: number;
}
const rows: Row[] = [];

try {
  for (const scale of scales) {
    console.error(`# preparing dataset x${scale} under ${root}`);
    const ds = await ensureDataset(root, scale);
    const bucket = `bench-${scale}-${Date.now()}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const dir = join(root, `run-x${scale}`);
    mkdirSync(dir, { recursive: true });
    const { recipient } = generateIdentity();
    const storage = {
      type: 's3',
      endpoint: s3.endpoint,
      bucket,
      forcePathStyle: true,
      accessKeyId: { env: 'BENCH_KEY' },
      secretAccessKey: { env: 'BENCH_SECRET' },
    };
    const config = join(dir, 'bo.yaml');
    writeFileSync(
      config,
      stringify({
        stateDir: join(dir, 'state'),
        storage: { s3: storage },
        hosts: { srv: sshd.hostConfig() },
        jobs: {
          plain: { host: 'srv', paths: [ds.dir], storage: 's3' },
          encrypted: { host: 'srv', paths: [ds.dir], storage: 's3', encryption: { recipients: [recipient] } },
        },
      }),
    );
    execFileSync('sh', ['-c', `cat ${ds.dir}/random.bin ${ds.dir}/dump.sql > /dev/null`]); // warm the page cache

    const base = await measure(
      'sh',
      [
        '-c',
        `ssh -q -i ${sshd.clientKeyPath} -p ${sshd.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
          `-c aes128-gcm@openssh.com ${sshd.user}@127.0.0.1 'tar -C / -cf - ${ds.dir.slice(1)} | zstd -q -3' | ` +
          `${aws} --endpoint-url ${s3.endpoint} s3 cp - s3://${bucket}/baseline/archive.tar.zst`,
      ],
      env,
    );
    if (base.code !== 0) throw new Error(`baseline failed: ${base.stderr}`);
    const baseSize =
      (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'baseline/archive.tar.zst' })))
        .ContentLength ?? 0;
    rows.push({
      name: 'baseline ssh|tar|zstd -3|aws s3 cp',
      scale,
      m: base,
      bytes: ds.bytes,
      stored: baseSize,
    });

    for (const job of ['plain', 'encrypted']) {
      // The executable itself, as users run it (its shebang sets bo's memory options).
      const m = await measure(bo, ['--config', config, 'backup', 'now', job], env);
      if (m.code !== 0) throw new Error(`bo ${job} failed: ${m.stderr}`);
      rows.push({
        name: `bo (${job === 'plain' ? 'index+hash' : 'index+hash+age'})`,
        scale,
        m,
        bytes: ds.bytes,
        stored: await storedBytes(bucket, `${job}/`),
      });
    }
  }
} finally {
  await sshd.stop();
  await s3.stop();
}

console.log(`\nbackup over SSH into ${s3.kind} (dataset bytes / wall time), ${cpus().length} cores`);
console.log(
  'scale  what                                  MB/s    vs baseline  peak RSS   bo CPU  machine CPU  stored',
);
for (const r of rows) {
  const baseline = rows.find((x) => x.scale === r.scale && x.name.startsWith('baseline'))!;
  const ratio = (baseline.m.ms / r.m.ms).toFixed(2);
  const isBase = r.name.startsWith('baseline');
  const rss = isBase ? '     -' : `${(r.m.peakRss / 2 ** 20).toFixed(0).padStart(4)} MiB`;
  const own = isBase ? '     -' : `${r.m.cpuSeconds.toFixed(1).padStart(5)} s`;
  console.log(
    `x${r.scale}     ${r.name.padEnd(36)}  ${mbps(r.bytes, r.m.ms).padStart(6)}  ${ratio.padStart(6)}x     ${rss}  ${own}  ${r.m.machineCpuSeconds.toFixed(1).padStart(8)} s   ${(r.stored / 1e6).toFixed(0)} MB`,
  );
}
console.log(
  'machine CPU: busy CPU seconds of every process during the row (sshd, tar, zstd, the S3 server and the client):\n' +
    'on one machine they share the cores, so wall time cannot beat machine CPU / cores. bo also decompresses,\n' +
    'parses and hashes every file for its index, which the baseline does not do.',
);
