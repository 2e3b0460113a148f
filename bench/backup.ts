/**
 * Backup throughput: bo over SSH into the S3-compatible server, against the hand-written
 * baseline a sysadmin would use — `ssh HOST 'tar -cf - DIR | zstd -3' | aws s3 cp - s3://…` —
 * and against bo as it was before seekable archives (`--before`, built from git), all measured
 * in the same run on the same data. Prints MB/s, peak RSS, CPU seconds per GB and stored size,
 * in two layouts:
 *   shared  everything on both cores, as one machine runs it;
 *   pinned  the "server" (sshd and what it runs: tar, zstd, split) on core 0, bo, the ssh/aws
 *           client and the S3 server on core 1: closer to production, where the server and the
 *           backup host are different machines.
 *   node bench/backup.ts [--scales=1,4] [--layouts=shared,pinned] [--before=REF|none]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { generateIdentity } from '../src/archive/age/index.ts';
import { awsCli } from '../tests/fixtures/aws-cli.ts';
import { S3_CREDENTIALS, startS3Server } from '../tests/fixtures/s3-server.ts';
import { startSshd } from '../tests/fixtures/sshd.ts';
import { ensureDataset } from './lib/dataset.ts';
import { benchEnv, benchS3Client, type Measured, mbps, measure, pinTree } from './lib/measure.ts';

const root = new URL('./.data/', import.meta.url).pathname;
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const scales = (arg('scales') ?? '1,4').split(',').map(Number);
const layouts = (arg('layouts') ?? 'shared,pinned').split(',') as Array<'shared' | 'pinned'>;
/** The last commit before seekable archives (issue 15): "today's" bo that a full backup must not lose to. */
const beforeRef = arg('before') ?? 'd69535a';
const bo = new URL('../bin/bo', import.meta.url).pathname;
const repo = new URL('..', import.meta.url).pathname;

/** bo at `ref`, extracted with git archive and compiled, sharing this checkout's node_modules. */
function boAt(ref: string): string {
  const sha = execFileSync('git', ['-C', repo, 'rev-parse', '--short', ref]).toString().trim();
  const dir = join(root, `bo-${sha}`);
  if (!existsSync(join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git -C ${repo} archive ${sha} | tar -x -C ${dir}`]);
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(join(repo, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.build.json')], {
      stdio: 'inherit',
    });
    writeFileSync(join(dir, '.complete'), '');
  }
  return join(dir, 'bin/bo');
}
const before = beforeRef === 'none' ? undefined : { ref: beforeRef, bo: boAt(beforeRef) };

const s3 = await startS3Server();
// A clean /bin/sh login (no ~/.bashrc per command), as a backup user on a real server has.
const sshd = await startSshd({ cleanShell: true });
const aws = awsCli();
if (!s3 || !sshd || !aws)
  throw new Error('bench needs moto (or s3rver), sshd and the aws CLI: run bash .ci/run once');
const creds = S3_CREDENTIALS[s3.kind];
const client = benchS3Client(s3.endpoint, creds);
const env = benchEnv(creds);

async function storedBytes(bucket: string, prefix: string): Promise<number> {
  const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).reduce((n, o) => n + (o.Size ?? 0), 0);
}

interface Row {
  layout: string;
  name: string;
  scale: number;
  m: Measured;
  bytes: number;
  stored: number;
}
const rows: Row[] = [];

/** Runs on the backup host's core in the pinned layout, anywhere in the shared one. */
const onHost = (layout: string, cmd: string, args: string[]): [string, string[]] =>
  layout === 'pinned' ? ['taskset', ['-c', '1', cmd, ...args]] : [cmd, args];

try {
  for (const layout of layouts) {
    pinTree(sshd.pid, layout === 'pinned' ? '0' : '0,1');
    if (s3.pid) pinTree(s3.pid, layout === 'pinned' ? '1' : '0,1');
    for (const scale of layout === 'pinned' ? scales.slice(0, 1) : scales) {
      console.error(`# ${layout}: preparing dataset x${scale} under ${root}`);
      const ds = await ensureDataset(root, scale);
      const bucket = `bench-${layout}-${scale}-${Date.now()}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const dir = join(root, `run-${layout}-x${scale}`);
      rmSync(dir, { recursive: true, force: true });
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
      // Full backups, as this benchmark is about: incremental: false.
      const job = (extra: object = {}) => ({
        host: 'srv',
        paths: [ds.dir],
        storage: 's3',
        incremental: false,
        ...extra,
      });
      writeFileSync(
        config,
        stringify({
          stateDir: join(dir, 'state'),
          storage: { s3: storage },
          hosts: { srv: sshd.hostConfig() },
          jobs: { plain: job(), before: job(), encrypted: job({ encryption: { recipients: [recipient] } }) },
        }),
      );
      execFileSync('sh', ['-c', `cat ${ds.dir}/random.bin ${ds.dir}/dump.sql > /dev/null`]); // warm the page cache

      const base = await measure(
        ...onHost(layout, 'sh', [
          '-c',
          `ssh -q -i ${sshd.clientKeyPath} -p ${sshd.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
            `-c aes128-gcm@openssh.com ${sshd.user}@127.0.0.1 'tar -C / -cf - ${ds.dir.slice(1)} | zstd -q -3' | ` +
            `${aws} --endpoint-url ${s3.endpoint} s3 cp - s3://${bucket}/baseline/archive.tar.zst`,
        ]),
        env,
        { server: sshd.pid },
      );
      if (base.code !== 0) throw new Error(`baseline failed: ${base.stderr}`);
      const baseSize =
        (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'baseline/archive.tar.zst' })))
          .ContentLength ?? 0;
      rows.push({
        layout,
        name: 'baseline ssh|tar|zstd -3|aws s3 cp',
        scale,
        m: base,
        bytes: ds.bytes,
        stored: baseSize,
      });

      const runs: Array<[string, string, string]> = [
        ...(before
          ? ([[`bo ${before.ref} (before seekable)`, before.bo, 'before']] as Array<[string, string, string]>)
          : []),
        ['bo (index+hash)', bo, 'plain'],
        ['bo (index+hash+age)', bo, 'encrypted'],
      ];
      for (const [name, exe, jobName] of runs) {
        // The executable itself, as users run it (its shebang sets bo's memory options).
        const m = await measure(...onHost(layout, exe, ['--config', config, 'backup', 'now', jobName]), env, {
          server: sshd.pid,
        });
        if (m.code !== 0) throw new Error(`${name} failed: ${m.stderr}`);
        rows.push({
          layout,
          name,
          scale,
          m,
          bytes: ds.bytes,
          stored: await storedBytes(bucket, `${jobName}/`),
        });
      }
    }
  }
} finally {
  await sshd.stop();
  await s3.stop();
}

console.log(`\nfull backup over SSH into ${s3.kind} (dataset bytes / wall time), ${cpus().length} cores`);
console.log(
  'layout  scale  what                                       MB/s    vs baseline  peak RSS   bo CPU  CPU-s/GB  server CPU  stored',
);
for (const r of rows) {
  const baseline = rows.find(
    (x) => x.layout === r.layout && x.scale === r.scale && x.name.startsWith('baseline'),
  )!;
  const ratio = (baseline.m.ms / r.m.ms).toFixed(2);
  const isBase = r.name.startsWith('baseline');
  const rss = isBase ? '     -' : `${(r.m.peakRss / 2 ** 20).toFixed(0).padStart(4)} MiB`;
  const own = isBase ? '     -' : `${r.m.cpuSeconds.toFixed(1).padStart(5)} s`;
  const perGB = isBase ? '       -' : `${(r.m.cpuSeconds / (r.bytes / 1e9)).toFixed(2).padStart(6)} s`;
  console.log(
    `${r.layout.padEnd(7)} x${r.scale}     ${r.name.padEnd(41)}  ${mbps(r.bytes, r.m.ms).padStart(6)}  ${ratio.padStart(6)}x     ${rss}  ${own}  ${perGB}  ${r.m.serverCpuSeconds.toFixed(1).padStart(8)} s  ${(r.stored / 1e6).toFixed(0)} MB`,
  );
}
console.log(
  "bo CPU: bo's own CPU seconds (CPU-s/GB: per GB of source); server CPU: the sshd tree (tar, zstd, split).\n" +
    'shared: one machine runs everything, so wall time cannot beat all CPU / cores; pinned: the server on\n' +
    'core 0, bo, the client side and the S3 server on core 1. bo also decompresses, parses and hashes every\n' +
    'file for its index, which the baseline does not do. Target (issue 15): bo >= 0.9x of the baseline\n' +
    'pinned, and no slower than before seekable archives.',
);
