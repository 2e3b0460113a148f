/**
 * Ctrl-C in a real terminal, through `bin/bo` re-running itself under Node 24 because the `node`
 * first on PATH is older (the system's). A pseudo-terminal from util-linux `script` stands in for
 * the user's terminal: the ^C byte typed into it makes the kernel signal the foreground process
 * group. The backup must cancel cleanly, once: not take the same Ctrl-C, delivered twice, for
 * "press Ctrl-C again to force" and quit leaving temp files and an unfinished run behind.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateDbReadOnly } from '../../../src/catalog/db-read.ts';
import { listRuns } from '../../../src/catalog/runs.ts';
import { BO_BIN, writeConfig } from '../../fixtures/bo.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';
import { waitUntil } from '../../fixtures/until.ts';

const OLD_NODE = '/usr/bin/node';
const oldNodeMajor = (() => {
  try {
    return Number(execFileSync(OLD_NODE, ['-p', 'process.versions.node.split(".")[0]']).toString());
  } catch {
    return 0;
  }
})();
const skip =
  missing('util-linux script (a pseudo-terminal)', hasCommand('script'), 'util-linux') ??
  missing(`Node.js older than 24 at ${OLD_NODE}`, oldNodeMajor > 0 && oldNodeMajor < 24, 'nodejs (Debian)');

const MiB = 1024 * 1024;

/** `bin/bo …` in a pseudo-terminal, with the old node first on PATH; output is what the terminal shows. */
function inTerminal(args: string[]): { proc: ChildProcess; output: () => string; exited: Promise<number> } {
  // The shell prints its pid, then becomes bin/bo (the wrapper, under the old node).
  const command = `echo "wrapper=$$"; exec ${BO_BIN} ${args.join(' ')}`;
  // Without CI: bo shows no progress line when CI is set (.ci/run sets it), and the tests wait for it.
  const { CI: _ci, ...env } = process.env;
  const proc = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...env, PATH: '/usr/bin:/bin', BO_LOG_LEVEL: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number>((resolve) => proc.on('close', (code) => resolve(code ?? -1)));
  return { proc, output: () => text, exited };
}

/** Waits until the output matches (the machine may be slow: no fixed sleeps). */
async function waitFor(output: () => string, re: RegExp, exited: Promise<number>): Promise<RegExpMatchArray> {
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    const m = output().match(re);
    if (m) return m;
    if (done) throw new Error(`bo exited before printing ${re}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process's state letter from /proc: R/S/D running or sleeping, T stopped. */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.split('/').pop()!.startsWith('.bo-tmp-'),
  );
}

describe.skipIf(skip)('Ctrl-C through bin/bo under an older Node', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-ctrl-c-'));
  const repo = join(work, 'repo');
  const state = join(work, 'state');
  let config: string;

  beforeAll(async () => {
    const src = join(work, 'src');
    mkdirSync(src, { recursive: true });
    // A few hundred MiB that do not compress, compressed hard: the backup streams for a long
    // while, so the Ctrl-C lands mid-stream however busy the machine is.
    for (const n of [1, 2, 3]) {
      await pipeline(
        spawn('head', ['-c', String(100 * MiB), '/dev/urandom']).stdout!,
        createWriteStream(join(src, `data${n}.bin`)),
      );
    }
    config = writeConfig({
      stateDir: state,
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs: { big: { host: 'local', paths: [src], storage: 'repo', compressionLevel: 19 } },
    });
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Every run of the job ended cancelled (none unfinished, none abandoned), and nothing is left. */
  function expectCleanCancel(output: string, code: number, runs: number) {
    expect(code, output).toBe(130);
    expect(output.match(/SIGINT received, cancelling/g)).toHaveLength(1);
    expect(output).toMatch(/cancelled big {2}backup of big cancelled; nothing was kept/);
    const db = openStateDbReadOnly(state)!;
    try {
      const recorded = listRuns(db, { job: 'big' });
      expect(recorded).toHaveLength(runs);
      expect(recorded[0]).toMatchObject({ outcome: 'cancelled', trigger: 'manual' });
      expect(recorded[0]!.finishedAt).toBeDefined();
    } finally {
      db.close();
    }
    expect(tempFiles(repo)).toEqual([]);
  }

  it('a Ctrl-C typed in the terminal cancels the backup once, cleanly', async () => {
    const t = inTerminal(['--config', config, 'backup', 'now', 'big']);
    await waitFor(t.output, /streaming +source [0-9.]+ (KiB|MiB|GiB)/, t.exited);
    t.proc.stdin!.write('\x03'); // the terminal's ^C: SIGINT to its foreground process group
    const code = await t.exited;
    expectCleanCancel(t.output(), code, 1);
  });

  it('a SIGINT sent to the wrapper alone (kill -INT PID) reaches the backup, once', async () => {
    const t = inTerminal(['--config', config, 'backup', 'now', 'big']);
    const [, pid] = await waitFor(t.output, /wrapper=(\d+)/, t.exited);
    await waitFor(t.output, /streaming +source [0-9.]+ (KiB|MiB|GiB)/, t.exited);
    process.kill(Number(pid), 'SIGINT');
    const code = await t.exited;
    expectCleanCancel(t.output(), code, 2);
  });

  it('Ctrl-Z stops the backup with the wrapper, fg resumes both, and a Ctrl-C then cancels', async () => {
    const t = inTerminal(['--config', config, 'backup', 'now', 'big']);
    const wrapper = Number((await waitFor(t.output, /wrapper=(\d+)/, t.exited))[1]);
    await waitFor(t.output, /streaming +source [0-9.]+ (KiB|MiB|GiB)/, t.exited);
    const child = Number(readFileSync(`/proc/${wrapper}/task/${wrapper}/children`, 'utf8').trim());
    t.proc.stdin!.write('\x1a'); // ^Z
    await waitUntil(() => procState(wrapper) === 'T' && procState(child) === 'T', 'both to stop');
    // What a shell's `fg` does: SIGCONT to the job's process group (here `script` stops itself too).
    process.kill(t.proc.pid!, 'SIGCONT');
    process.kill(-wrapper, 'SIGCONT');
    await waitUntil(() => procState(wrapper) !== 'T' && procState(child) !== 'T', 'both to resume');
    t.proc.stdin!.write('\x03');
    const code = await t.exited;
    expectCleanCancel(t.output(), code, 3);
  });
});
