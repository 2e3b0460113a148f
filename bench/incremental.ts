/**
 * Incremental backups (issue 11): bo beside restic on the same ~800 MB / ~50,000-file bench tree
 * (lib/tree.ts), in the same run. Four runs in a row on the same repositories: the first (a
 * full), an unchanged tree, 1 % of the files changed, then 10 % more. Every run: wall time, CPU
 * seconds of the tool's process tree, CPU seconds on the server side (sshd, its sessions and what
 * they run), peak RSS of its largest process, and bytes stored (the repository's growth).
 *   node bench/incremental.ts [--s3] [--tree=DIR]   (--tree: back up a copy of DIR instead, for a quick look)
 *
 * Setups, each with its own repositories:
 *   ssh    bo reads the tree through the loopback sshd (tar runs on the "server", nothing is
 *          installed there) into a local filesystem repository. restic cannot read a source
 *          over SSH (its sftp backend is for repositories), and mounting the server with sshfs
 *          would measure FUSE more than restic. So restic runs the way its users deploy it: on
 *          the server, reading the tree locally and writing its repository over SFTP through the
 *          same sshd into the same disk. Both tools then push their data over the same SSH link.
 *   local  bo with `host: local`; restic into a local directory.
 *   s3     (--s3) bo over the sshd, restic reading locally, both into moto (in memory).
 * The tree is a copy of the cached one, so the seeded mutations start from the same files in
 * every run. bo's kind of backup is read from each manifest's `chain` (null: a standalone full,
 * from before incremental backups), so the output says which state of bo was measured.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { SNAR_MARGIN_S } from '../src/archive/snar.ts';
import { S3_CREDENTIALS, type S3Server, startS3Server } from '../tests/fixtures/s3-server.ts';
import { startSshd } from '../tests/fixtures/sshd.ts';
import { printReport, type Run } from './lib/incremental-report.ts';
import { benchEnv, benchS3Client, measure } from './lib/measure.ts';
import { bucketBytes, dirBytes } from './lib/stored.ts';
import { ensureBenchTree, mutateTree, treeStats } from './lib/tree.ts';

const started = performance.now();
const data = new URL('./.data/', import.meta.url).pathname;
const repoRoot = new URL('../', import.meta.url).pathname;
const bo = join(repoRoot, 'bin', 'bo');
const withS3 = process.argv.includes('--s3');
const treeArg = process.argv.find((a) => a.startsWith('--tree='))?.slice('--tree='.length);

const CASES = [
  { name: 'first run', change: 0, seed: 0 },
  { name: 'unchanged', change: 0, seed: 0 },
  { name: '1 % changed', change: 0.01, seed: 101 },
  { name: '10 % changed', change: 0.1, seed: 110 },
] as const;

interface Side {
  run(): Promise<Run>;
}
interface Setup {
  name: string;
  bo: Side;
  restic: Side;
  results: { bo: Run; restic: Run }[];
}

// Ctrl-C reaches bo or restic too (same process group), so the run fails and `finally` cleans up.
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => (stopping = true));
const checkStop = () => {
  if (stopping) throw new Error('interrupted');
};

mkdirSync(data, { recursive: true });
removeAbandonedRuns();
console.error('# preparing the bench tree (generated once, cached under bench/.data/)');
const source = treeArg ? { dir: treeArg } : ensureBenchTree(data);
const run = mkdtempSync(join(data, `incremental-run-${process.pid}-`));
const work = join(run, 'tree');
let tree = { files: 0, bytes: 0 };
const load = loadavg()[0]!;
let stopSshd: (() => Promise<void>) | undefined;
let s3: S3Server | undefined;
const mutations: string[] = [];
try {
  execFileSync('cp', ['-a', '--reflink=auto', source.dir, work]);
  rmSync(join(work, '.complete'), { force: true });
  tree = treeStats(work);
  // The copy's files all have a ctime of just now. bo archives a file changed within its safety
  // margin before a backup again in the next one (archive/snar.ts), so a tree copied a moment
  // before the first run would make the "unchanged" run re-archive what was copied last. A real
  // server's tree is older than that: wait it out, as restic's side waits too.
  await new Promise((r) => setTimeout(r, (SNAR_MARGIN_S + 1) * 1000));
  checkStop();
  const sshd = await startSshd({ cleanShell: true });
  if (!sshd) throw new Error('bench needs OpenSSH sshd: run bash .ci/run once');
  stopSshd = sshd.stop;
  if (withS3) {
    s3 = await startS3Server();
    if (!s3) throw new Error('--s3 needs moto (or s3rver): run bash .ci/run once');
  }
  const creds = s3 ? S3_CREDENTIALS[s3.kind] : { accessKeyId: 'x', secretAccessKey: 'x' };
  const client = s3 && benchS3Client(s3.endpoint, creds);
  const env = { ...benchEnv(creds), RESTIC_PASSWORD: 'bench' };
  const repo = (name: string) => join(run, 'repos', name);
  const boStorage: Record<string, unknown> = {
    ssh: { type: 'filesystem', path: repo('bo-ssh') },
    local: { type: 'filesystem', path: repo('bo-local') },
  };
  if (s3) {
    for (const b of ['bo', 'restic']) await client!.send(new CreateBucketCommand({ Bucket: `inc-${b}` }));
    boStorage.s3 = {
      type: 's3',
      endpoint: s3.endpoint,
      bucket: 'inc-bo',
      forcePathStyle: true,
      accessKeyId: { env: 'BENCH_KEY' },
      secretAccessKey: { env: 'BENCH_SECRET' },
    };
  }
  const config = join(run, 'bo.yaml');
  const job = (host: string, storage: string) => ({ host, paths: [work], storage });
  writeFileSync(
    config,
    stringify({
      stateDir: join(run, 'state'),
      daemon: { socket: join(run, 'bo.sock') },
      storage: boStorage,
      hosts: { srv: sshd.hostConfig() },
      jobs: {
        ssh: job('srv', 'ssh'),
        local: job('local', 'local'),
        ...(s3 ? { s3: job('srv', 's3') } : {}),
      },
    }),
  );

  const boSide = (
    name: string,
    stored: () => Promise<number>,
    manifest: (id: string) => Promise<string>,
  ) => ({
    async run(): Promise<Run> {
      const before = await stored();
      const args = ['--config', config, 'backup', 'now', name, '--json'];
      const m = await measure(bo, args, env, { tree: true, server: name === 'local' ? undefined : sshd.pid });
      if (m.code !== 0) throw new Error(`bo backup now ${name} failed (exit ${m.code}): ${m.stderr}`);
      const out = JSON.parse(m.stdout) as { jobs: { result?: { backupId?: string } }[] };
      const id = out.jobs[0]?.result?.backupId;
      if (!id) throw new Error(`bo backup now ${name}: no backup id in ${m.stdout}`);
      const kind = describeChain(JSON.parse(await manifest(id)));
      return { m, stored: (await stored()) - before, remote: name !== 'local', kind };
    },
  });
  const fsManifest = (dir: string, jobName: string) => async (id: string) =>
    readFileSync(join(dir, jobName, id, 'manifest.json'), 'utf8');

  const cache = join(run, 'restic-cache');
  const sftp =
    `ssh -q -i ${sshd.clientKeyPath} -p ${sshd.port} -o StrictHostKeyChecking=no ` +
    `-o UserKnownHostsFile=/dev/null ${sshd.user}@127.0.0.1 -s sftp`;
  const resticSide = (url: string, opts: string[], stored: () => Promise<number>, server?: number) => {
    const restic = (...args: string[]) => ['-r', url, '--cache-dir', cache, ...opts, ...args];
    let ready = false;
    return {
      async run(): Promise<Run> {
        if (!ready) {
          execFileSync('restic', restic('init'), { env, stdio: 'ignore' });
          ready = true;
        }
        const before = await stored();
        const m = await measure('restic', restic('backup', '--quiet', '--host', 'bench', work), env, {
          tree: true,
          server,
        });
        if (m.code !== 0) throw new Error(`restic backup failed (exit ${m.code}): ${m.stderr}`);
        return { m, stored: (await stored()) - before, remote: server !== undefined };
      },
    };
  };

  const setups: Setup[] = [
    {
      name: 'ssh',
      bo: boSide('ssh', async () => dirBytes(repo('bo-ssh')), fsManifest(repo('bo-ssh'), 'ssh')),
      restic: resticSide(
        `sftp:bench:${repo('restic-sftp')}`,
        ['-o', `sftp.command=${sftp}`],
        async () => dirBytes(repo('restic-sftp')),
        sshd.pid,
      ),
      results: [],
    },
    {
      name: 'local',
      bo: boSide('local', async () => dirBytes(repo('bo-local')), fsManifest(repo('bo-local'), 'local')),
      restic: resticSide(repo('restic-local'), [], async () => dirBytes(repo('restic-local'))),
      results: [],
    },
  ];
  if (s3 && client) {
    setups.push({
      name: 's3',
      bo: boSide(
        's3',
        () => bucketBytes(client, 'inc-bo'),
        async (id) =>
          (
            await client.send(new GetObjectCommand({ Bucket: 'inc-bo', Key: `s3/${id}/manifest.json` }))
          ).Body!.transformToString(),
      ),
      restic: resticSide(`s3:${s3.endpoint}/inc-restic`, [], () => bucketBytes(client, 'inc-restic')),
      results: [],
    });
  }

  for (const c of CASES) {
    if (c.change > 0) {
      const mu = mutateTree(work, c.change, c.seed);
      const line = `${c.name}: ${mu.modified} modified, ${mu.deleted} deleted, ${mu.added} added (${(mu.bytesWritten / 1e6).toFixed(1)} MB written)`;
      console.error(`# ${line}`);
      mutations.push(line);
    }
    for (const s of setups) {
      checkStop();
      console.error(`# ${c.name}, ${s.name}: bo`);
      const b = await s.bo.run();
      checkStop();
      console.error(`# ${c.name}, ${s.name}: restic`);
      const r = await s.restic.run();
      s.results.push({ bo: b, restic: r });
    }
  }
  printReport(setups, {
    cases: CASES.map((c) => c.name),
    tree,
    treeLabel: treeArg ?? 'the bench tree, lib/tree.ts',
    load,
    started,
    mutations,
    repoRoot,
  });
} finally {
  await stopSshd?.();
  await s3?.stop();
  rmSync(run, { recursive: true, force: true });
}

/** full (standalone) for a manifest without a chain, else the chain's type and level. */
function describeChain(manifest: { chain?: { type: string; level: number } | null }): string {
  const c = manifest.chain;
  if (!c) return 'full (no chain)';
  return c.type === 'incremental' ? `incremental L${c.level}` : 'full (chain root)';
}

/** Run directories of earlier runs that were killed (their process is gone): a full tree copy each. */
function removeAbandonedRuns(): void {
  for (const name of readdirSync(data)) {
    const pid = Number(/^incremental-run-(\d+)-/.exec(name)?.[1]);
    if (!pid || alive(pid)) continue;
    console.error(`# removing ${name}, left by a killed run`);
    rmSync(join(data, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
