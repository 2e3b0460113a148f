/**
 * Prune planning and backup listing at scale.
 *   node bench/prune.ts [--manifests 100000] [--backups 10000]
 *
 * 1. Prune planning over N manifests: parse N manifest documents (as read from storage), plan a
 *    grandfather-father-son policy in Europe/Berlin over incremental chains (a full a week, so
 *    kept backups pull in their chains), with a baseline in the same run: just sorting N
 *    timestamps, the least any planner does. Each row in its own child process, so its peak RSS
 *    is its own.
 * 2. Listing M backups in S3 (a fresh moto server): one GET per manifest (listBackups) against
 *    the job catalog (one GET plus the recent day prefixes, listJobBackups), both as library
 *    calls, and the real `bo list` process as a user runs it (node bin/bo --config … list
 *    --job …: start-up, config, catalog, JSON out), wall time and its peak RSS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { listBackups } from '../src/catalog/backups.ts';
import { listJobBackups, writeCatalog } from '../src/catalog/catalog.ts';
import { Manifest } from '../src/catalog/manifest.ts';
import { parseResolved } from '../src/config/resolve-secrets.ts';
import { S3Storage } from '../src/config/schema.ts';
import { SecretValue } from '../src/config/secret.ts';
import { silentLogger } from '../src/log.ts';
import { planPrune } from '../src/plan/prune.ts';
import { pruneBackups } from '../src/plan/prune-backups.ts';
import { createS3Storage } from '../src/storage/s3.ts';
import { startS3Server } from '../tests/fixtures/s3-server.ts';
import { CHAIN_LENGTH, fabricatedManifest } from './lib/manifests.ts';
import { benchS3Client } from './lib/measure.ts';

const HOUR = 3_600_000;
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};

function planChild(which: string, n: number): void {
  const end = Date.now();
  const texts = Array.from({ length: n }, (_, i) =>
    JSON.stringify(fabricatedManifest('files1', i, n, end), null, 2),
  );
  const t0 = performance.now();
  if (which === 'baseline') {
    const times = texts.map((_, i) => new Date(end - i * HOUR));
    times.sort((a, b) => b.getTime() - a.getTime());
    report({ parseMs: 0, planMs: performance.now() - t0 });
    return;
  }
  const manifests = texts.map((t) => Manifest.parse(JSON.parse(t)));
  const t1 = performance.now();
  const plan = planPrune({
    job: 'files1',
    now: new Date(end),
    policy: {
      last: 24,
      hourly: 48,
      daily: 30,
      weekly: 12,
      monthly: 24,
      yearly: 10,
      timezone: 'Europe/Berlin',
    },
    garbageAgeMs: 24 * HOUR,
    backups: pruneBackups(
      manifests.map((m) => ({
        id: m.id,
        time: new Date(m.startedAt),
        names: ['manifest.json', m.archive.key, m.index.key],
        bytes: m.archive.size + m.index.size,
        ...(m.chain?.type === 'incremental' ? { parent: m.chain.parent } : {}),
      })),
    ),
    orphans: [],
    incomplete: [],
  });
  report({
    parseMs: t1 - t0,
    planMs: performance.now() - t1,
    kept: plan.totals.kept,
    deleted: plan.totals.deleted,
  });
}

function report(x: Record<string, number>): void {
  process.stdout.write(`${JSON.stringify({ ...x, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

function runChild(args: string[]): Record<string, number> {
  const out = execFileSync(process.execPath, [import.meta.filename, '--child', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
}

async function listBench(m: number): Promise<void> {
  const server = await startS3Server();
  if (server?.kind !== 'moto')
    throw new Error('the listing benchmark needs moto (see tests/fixtures/s3-server.ts)');
  const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
  const client = benchS3Client(server.endpoint, creds);
  const bucket = 'bench-list';
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const end = Date.now();
    const manifests = Array.from({ length: m }, (_, i) => fabricatedManifest('files1', i, m, end));
    const objects = manifests.flatMap((x) => [
      [`bo/files1/${x.id}/${x.archive.key}`, 'a'],
      [`bo/files1/${x.id}/${x.index.key}`, 'i'],
      [`bo/files1/${x.id}/manifest.json`, JSON.stringify(x, null, 2)],
    ]);
    let t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < objects.length) {
          const [Key, Body] = objects[next++]!;
          await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
        }
      }),
    );
    console.log(
      `  populated ${m} backups (${objects.length} objects) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const cfg = parseResolved(S3Storage, {
      type: 's3',
      endpoint: server.endpoint,
      bucket,
      prefix: 'bo/',
      forcePathStyle: true,
    });
    cfg.accessKeyId = new SecretValue('test', 'bench');
    cfg.secretAccessKey = new SecretValue('test', 'bench');
    const storage = createS3Storage('bench', cfg, { log: silentLogger() });
    await writeCatalog(storage, 'files1', manifests, new Date());

    const row = async (label: string, fn: () => Promise<{ backups: unknown[] }>) => {
      t = performance.now();
      const r = await fn();
      const s = (performance.now() - t) / 1000;
      console.log(
        `  ${label.padEnd(44)} ${String(r.backups.length).padStart(6)} backups  ${s.toFixed(2).padStart(7)} s`,
      );
    };
    await row('catalog + recent prefixes (listJobBackups)', () => listJobBackups(storage, 'files1'));
    await row('GET per manifest, concurrency 16 (listBackups)', () =>
      listBackups(storage, { job: 'files1', concurrency: 16 }),
    );
    boListProcess(server.endpoint, bucket);
    await storage.close();
  } finally {
    client.destroy();
    await server.stop();
  }
}

/** The real `bo list --job files1 --json` against the bucket, timed from outside the process. */
function boListProcess(endpoint: string, bucket: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'bo-bench-list-'));
  try {
    const config = join(dir, 'bo.yaml');
    const creds = { env: 'BO_BENCH_S3_KEY' };
    const storage = { type: 's3', endpoint, bucket, prefix: 'bo/', forcePathStyle: true };
    writeFileSync(
      config,
      stringify({
        stateDir: join(dir, 'state'),
        storage: { bench: { ...storage, accessKeyId: creds, secretAccessKey: creds } },
        jobs: { files1: { host: 'local', paths: ['/srv/share'], storage: 'bench' } },
      }),
    );
    const bo = fileURLToPath(new URL('../bin/bo', import.meta.url));
    // Baseline: the same process doing nothing (start-up, loading the CLI from src via type stripping).
    let t = performance.now();
    const idle = spawnSync(bo, ['--version'], { encoding: 'utf8' });
    if (idle.status !== 0) throw new Error(`bo --version failed: ${idle.stderr}`);
    console.log(
      `  ${'baseline: the bo process start-up (--version)'.padEnd(44)}          ${((performance.now() - t) / 1000).toFixed(2).padStart(14)} s`,
    );
    t = performance.now();
    // GNU time reports the child's peak RSS on stderr (%M, KiB)
    const r = spawnSync(
      '/usr/bin/time',
      ['-f', 'maxrss=%M', bo, '--config', config, 'list', '--job', 'files1', '--json'],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
        env: { ...process.env, BO_BENCH_S3_KEY: 'test', BO_LOG_LEVEL: 'warn' },
      },
    );
    const s = (performance.now() - t) / 1000;
    if (r.status !== 0) throw new Error(`bo list failed (${r.status}): ${r.stderr}`);
    const n = (JSON.parse(r.stdout) as { backups: unknown[] }).backups.length;
    const rss = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1] ?? Number.NaN) / 1024;
    console.log(
      `  ${'the bo list process (node bin/bo … list --job)'.padEnd(44)} ${String(n).padStart(6)} backups  ${s.toFixed(2).padStart(7)} s   peak RSS ${rss.toFixed(0)} MiB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  planChild(process.argv[3]!, Number(process.argv[4]));
} else {
  const n = arg('--manifests', 100_000);
  const m = arg('--backups', 10_000);
  console.log(
    `prune planning over ${n} manifests (GFS policy, Europe/Berlin, chains of ${CHAIN_LENGTH}), each row a fresh process`,
  );
  const base = runChild(['baseline', String(n)]);
  console.log(
    `  baseline: sort ${n} timestamps            ${base.planMs!.toFixed(0).padStart(6)} ms   peak RSS ${base.maxRssMiB!.toFixed(0)} MiB`,
  );
  const p = runChild(['plan', String(n)]);
  console.log(
    `  parse manifests ${p.parseMs!.toFixed(0)} ms + plan ${p.planMs!.toFixed(0)} ms = ${(p.parseMs! + p.planMs!).toFixed(0)} ms   peak RSS ${p.maxRssMiB!.toFixed(0)} MiB   (keep ${p.kept}, delete ${p.deleted})`,
  );
  console.log(`listing ${m} backups in S3 (moto)`);
  await listBench(m);
}
