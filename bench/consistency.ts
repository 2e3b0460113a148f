/**
 * Consistency row: what a btrfs-snapshot-based backup costs over a live one, on the same data,
 * in the same run. A real btrfs filesystem on a loop device holds a mail-spool-like tree (many
 * small files), some medium files and one large incompressible file; the same backup job runs
 * with and without `snapshot: { provider: btrfs }` (host local, filesystem storage outside the
 * loop device), alternating, and the medians are compared. A snapshot's files are other inodes
 * than the live ones, so they never share the live page cache: the fair comparison is with the
 * btrfs caches dropped (a remount) before each run; the live run with a warm cache is shown too.
 * Also timed alone: taking and releasing the snapshot (create + read-only check + delete).
 *   node bench/consistency.ts [MiB] [rounds]   (default 256 MiB, 3 rounds; needs root)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/clock.ts';
import { parseResolved } from '../src/config/resolve-secrets.ts';
import { Config, SnapshotVolume } from '../src/config/schema.ts';
import { runJob } from '../src/jobs/registry.ts';
import { silentLogger } from '../src/log.ts';
import { createLocalHost } from '../src/remote/local.ts';
import { createServices } from '../src/services.ts';
import { btrfsProvider } from '../src/snapshots/btrfs.ts';
import { snapshotName } from '../src/snapshots/names.ts';
import { startBtrfs } from '../tests/fixtures/btrfs.ts';

const MiB = 1024 * 1024;
const total = Number(process.argv[2] ?? 256) * MiB;
const rounds = Number(process.argv[3] ?? 3);

const fx = startBtrfs(Math.ceil((total * 1.5) / MiB) + 256, 'flushoncommit');
if (!fx) throw new Error('the consistency bench needs root, loop devices and btrfs-progs');
const work = mkdtempSync(join(tmpdir(), 'bo-bench-consistency-'));
try {
  const vol = fx.subvolume('data');
  const files = buildTree(vol);
  const config = parseResolved(Config, {
    stateDir: join(work, 'state'),
    storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
    jobs: {
      live: { host: 'local', paths: [vol], storage: 'repo', retention: { last: 1 } },
      snap: { host: 'local', paths: [vol], storage: 'repo', snapshot: { provider: 'btrfs', volume: vol } },
    },
  });
  const services = createServices({ config, log: silentLogger(), clock: systemClock });
  const run = async (job: 'live' | 'snap', cold = true) => {
    if (cold) {
      execFileSync('umount', [fx.mnt]);
      execFileSync('mount', ['-o', 'flushoncommit', fx.dev, fx.mnt]);
    }
    const start = performance.now();
    await runJob(job, config.jobs[job]!, {
      services,
      log: silentLogger(),
      signal: new AbortController().signal,
      runId: randomUUID(),
    });
    const ms = performance.now() - start;
    rmSync(join(work, 'repo', job), { recursive: true, force: true });
    return ms;
  };
  execFileSync('sync');
  await run('live', false); // warm
  const times: Record<'live' | 'snap' | 'warm', number[]> = { live: [], snap: [], warm: [] };
  for (let i = 0; i < rounds; i++) {
    times.live.push(await run('live'));
    times.snap.push(await run('snap'));
    times.warm.push(await run('live', false));
  }
  const host = createLocalHost();
  const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol });
  const snapOnly: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const signal = new AbortController().signal;
    const s = await btrfsProvider.create(host, spec, snapshotName('bench', new Date(Date.now() + i * 1000)), {
      signal,
      marker: 'bench',
    });
    await btrfsProvider.mountForRead(host, spec, s, { signal });
    await btrfsProvider.release(host, spec, s, { signal });
    await btrfsProvider.delete(host, spec, s, { signal });
    snapOnly.push(performance.now() - start);
  }
  await host.close();
  await services.close();

  const live = median(times.live);
  const snap = median(times.snap);
  const mb = total / MiB;
  console.log(
    `dataset: ${mb} MiB in ${files} files on btrfs (loop device, flushoncommit); ${rounds} rounds, medians`,
  );
  console.log(row('mode', 'seconds', 'MiB/s', 'extra'));
  const warm = median(times.warm);
  console.log(
    row('live backup, warm page cache', (warm / 1000).toFixed(2), (mb / (warm / 1000)).toFixed(0), '-'),
  );
  console.log(
    row('live backup, cold', (live / 1000).toFixed(2), (mb / (live / 1000)).toFixed(0), 'baseline'),
  );
  console.log(
    row(
      'btrfs-snapshot backup, cold',
      (snap / 1000).toFixed(2),
      (mb / (snap / 1000)).toFixed(0),
      `${((snap - live) / 1000).toFixed(2)} s (${(((snap - live) / live) * 100).toFixed(1)}%)`,
    ),
  );
  console.log(row('snapshot create+release alone', (median(snapOnly) / 1000).toFixed(3), '-', '-'));
} finally {
  fx.stop();
  rmSync(work, { recursive: true, force: true });
}

function buildTree(root: string): number {
  const pool = randomBytes(16 * MiB);
  const text = Buffer.from('Received: from mx1 by relay; queue deferred status sent\n'.repeat(200));
  let written = 0;
  let n = 0;
  const put = (rel: string, body: Buffer) => {
    writeFileSync(join(root, rel), body);
    written += body.length;
    n++;
  };
  mkdirSync(join(root, 'spool'));
  for (let d = 0; d < 50; d++) mkdirSync(join(root, 'spool', String(d)));
  for (let i = 0; written < total * 0.3; i++)
    put(`spool/${i % 50}/msg-${i}.eml`, text.subarray(0, 2000 + (i % 6000)));
  mkdirSync(join(root, 'db'));
  for (let i = 0; written < total * 0.7; i++) {
    const at = (i * 7919) % (pool.length - 4 * MiB);
    put(`db/table-${i}.ibd`, Buffer.concat([pool.subarray(at, at + 2 * MiB), Buffer.alloc(2 * MiB, i)]));
  }
  const left = Math.max(MiB, total - written);
  const big = Buffer.alloc(left);
  for (let o = 0; o < left; o += pool.length) pool.copy(big, o, 0, Math.min(pool.length, left - o));
  put('big.img', big);
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function row(...cols: string[]): string {
  return `${cols[0]!.padEnd(30)} ${cols[1]!.padStart(8)} ${cols[2]!.padStart(7)}  ${cols[3]}`;
}
