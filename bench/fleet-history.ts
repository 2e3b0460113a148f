/**
 * A fleet's history at scale: 200,000 backup manifests of one job (hourly, in incremental chains
 * of a week, as bench/prune.ts fabricates them) in one filesystem repository, with the job's
 * catalog, and the commands a sysadmin runs over it, each as the real `bo` process: `bo list`,
 * `bo prune --dry-run`, `bo status`, with wall time and peak RSS (GNU time), beside the bare
 * process start-up (`bo --version`) measured in the same run.
 * Targets: each ≤ 200 MB RSS and ≤ 5 s.
 *   node bench/fleet-history.ts [--manifests 200000]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { writeCatalog } from '../src/catalog/catalog.ts';
import type { Manifest } from '../src/catalog/manifest.ts';
import { silentLogger } from '../src/log.ts';
import { createFsStorage } from '../src/storage/fs.ts';
import { fabricatedManifest } from './lib/manifests.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--manifests', 200_000);
const BO = fileURLToPath(new URL('../bin/bo', import.meta.url));
const TARGET_MB = 200;
const TARGET_S = 5;

function measure(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { s: number; mb: number; out: string; code: number | null } {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', BO, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, BO_LOG_LEVEL: 'warn', ...env },
  });
  const s = (performance.now() - t) / 1000;
  const mb = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1] ?? Number.NaN) / 1024;
  return { s, mb, out: r.stdout, code: r.status };
}

async function main(): Promise<void> {
  // BENCH_FLEET_DIR keeps the fabricated repository there (made once, reused) for profiling.
  const keep = process.env.BENCH_FLEET_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'bo-bench-fleet-'));
  try {
    const repo = join(dir, 'repo');
    const end = Date.now();
    let t = performance.now();
    const manifests: Manifest[] = [];
    for (let i = 0; i < (keep && existsSync(join(repo, '_bo')) ? 0 : N); i++) {
      const m = fabricatedManifest('files1', i, N, end);
      const folder = join(repo, 'files1', m.id);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'manifest.json'), JSON.stringify(m, null, 2));
      manifests.push(m);
    }
    const storage = createFsStorage('repo', { type: 'filesystem', path: repo } as never, {
      log: silentLogger(),
    });
    if (manifests.length) await writeCatalog(storage, 'files1', manifests, new Date(end));
    manifests.length = 0;
    console.log(
      `fabricated ${N} manifests and the job catalog in ${((performance.now() - t) / 1000).toFixed(0)} s`,
    );
    const cfg = join(dir, 'bo.yaml');
    writeFileSync(
      cfg,
      stringify({
        stateDir: join(dir, 'state'),
        daemon: { socket: join(dir, 'bo.sock') },
        storage: { repo: { type: 'filesystem', path: repo } },
        jobs: {
          files1: {
            host: 'local',
            paths: ['/srv'],
            storage: 'repo',
            schedule: '0 * * * *',
            retention: { last: 24, hourly: 48, daily: 30, weekly: 12, monthly: 24, yearly: 10 },
          },
        },
      }),
    );
    t = performance.now();
    const rows: Array<[string, ReturnType<typeof measure>]> = [
      ['baseline: bo --version (start-up)', measure(['--version'])],
      ['bo list --job files1', measure(['--config', cfg, 'list', '--job', 'files1'])],
      ['bo list --job files1 --json', measure(['--config', cfg, 'list', '--job', 'files1', '--json'])],
      ['bo prune --dry-run', measure(['--config', cfg, 'prune', '--dry-run'])],
      ['bo status', measure(['--config', cfg, 'status'])],
    ];
    console.log(
      `${N} manifests of one job (chains of 168), filesystem repository; targets ≤ ${TARGET_MB} MB, ≤ ${TARGET_S} s`,
    );
    for (const [name, r] of rows) {
      const base = name.startsWith('baseline');
      // bo status exits 1 on problems (an overdue job, no daemon); the others must succeed.
      const ran = r.code === 0 || (name === 'bo status' && r.code === 1);
      const ok = ran && r.mb <= TARGET_MB && r.s <= TARGET_S;
      console.log(
        `  ${name.padEnd(36)} ${r.s.toFixed(2).padStart(6)} s  ${r.mb.toFixed(0).padStart(5)} MB  exit ${r.code}  ${base ? 'baseline' : !ran ? 'FAILED' : ok ? 'met' : 'MISSED'}`,
      );
    }
    console.log(
      JSON.stringify({
        bench: 'fleet-history',
        manifests: N,
        rows: rows.map(([n, r]) => ({ name: n, s: r.s, mb: r.mb, code: r.code })),
      }),
    );
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
