/**
 * A scratch setup for tests of the real daemon: a source tree, a config file, a state dir and
 * a filesystem repository in one temp dir, and daemons that are killed when the test ends.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { stringify } from 'yaml';
import { listRuns, type RunRecord } from '../../../src/catalog/runs.ts';
import { type DaemonProc, type LogLine, spawnDaemon } from './daemon-proc.ts';

export const MiB = 1024 * 1024;

export interface Env {
  dir: string;
  src: string;
  cfg: string;
  socket: string;
  stateDir: string;
  repo: string;
  write(config: Record<string, unknown>): void;
  /** Runs in the state database, oldest first. */
  runs(job?: string): RunRecord[];
}

const cleanups: Array<() => Promise<void>> = [];

/** Stops what the test started (call from afterEach). */
export async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export async function env(opts: { bigFile?: number } = {}): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'bo-daemon-'));
  const src = join(dir, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'alpha\n');
  await writeFile(join(src, 'sub', 'b.txt'), 'beta\n'.repeat(100));
  if (opts.bigFile) await writeFile(join(src, 'big.bin'), randomBytes(opts.bigFile));
  const e: Env = {
    dir,
    src,
    cfg: join(dir, 'bo.yaml'),
    socket: join(dir, 'bo.sock'),
    stateDir: join(dir, 'state'),
    repo: join(dir, 'repo'),
    write: (config) => writeFileSync(e.cfg, stringify(config)),
    runs(job) {
      const db = new DatabaseSync(join(e.stateDir, 'state.db'), { readOnly: true });
      try {
        return listRuns(db, { job }).reverse();
      } finally {
        db.close();
      }
    },
  };
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return e;
}

/** stateDir, the control socket and a filesystem repository `repo`. */
export function base(e: Env, daemon: Record<string, unknown> = {}) {
  return {
    stateDir: e.stateDir,
    daemon: { socket: e.socket, ...daemon },
    storage: { repo: { type: 'filesystem', path: e.repo } },
  };
}

export const localJob = (e: Env, extra: Record<string, unknown> = {}) => ({
  host: 'local',
  paths: [e.src],
  storage: 'repo',
  compression: 'none',
  ...extra,
});

/** The real daemon on `e.cfg`, SIGKILLed at the end of the test if it still runs. */
export async function daemon(
  e: Env,
  extraEnv: NodeJS.ProcessEnv = {},
  opts: Parameters<typeof spawnDaemon>[2] = {},
): Promise<DaemonProc> {
  const d = await spawnDaemon(e.cfg, extraEnv, opts);
  cleanups.push(async () => {
    if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await d.exited;
  });
  return d;
}

/** Registers something to stop at the end of the test. */
export function onCleanUp(f: () => Promise<void>): void {
  cleanups.push(f);
}

export const runEnded = (job: string) => (l: LogLine) =>
  l.job === job && (l.msg === 'Run finished' || l.msg === 'Run failed' || l.msg === 'Run cancelled');

/** Backup ids of `job` in a filesystem repository that have a manifest. */
export function manifests(repo: string, job: string): string[] {
  const dir = join(repo, job);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((id) => existsSync(join(dir, id, 'manifest.json')));
}

/**
 * The log lines written while run `runId` was going (from its "Run started" to its end), for
 * checking that each names the run. Only meaningful while no other run is going.
 */
export function linesOfRun(logs: LogLine[], runId: string): LogLine[] {
  const from = logs.findIndex((l) => l.msg === 'Run started' && l.runId === runId);
  const to = logs.findIndex(
    (l, i) => i > from && l.runId === runId && /^Run (finished|failed|cancelled)$/.test(String(l.msg)),
  );
  if (from < 0 || to < 0) throw new Error(`run ${runId} did not start and end in this log`);
  return logs.slice(from, to + 1);
}
