/**
 * The real `bo daemon` as a child process, as systemd would run it: its JSON log lines are
 * collected so tests can wait for what it says, and its exit is observable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BO_BIN } from '../../fixtures/bo.ts';

export type LogLine = Record<string, unknown> & { msg?: string };

export interface DaemonProc {
  child: ChildProcess;
  logs: LogLine[];
  /** The log lines as written (JSON.parse hides what `logs` cannot show, e.g. a repeated key). */
  raw: string[];
  stderr(): string;
  /** Resolves with the first log line (past or future) matching; rejects after `ms`. */
  waitFor(pred: (l: LogLine) => boolean, ms?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `bo daemon`; resolves once it logged "Daemon started", or at once with `waitForStart: false`. */
export async function spawnDaemon(
  configFile: string,
  env: NodeJS.ProcessEnv = {},
  opts: { waitForStart?: boolean; user?: { uid: number; gid: number }; args?: string[] } = {},
): Promise<DaemonProc> {
  const child = spawn(process.execPath, [BO_BIN, '--config', configFile, 'daemon', ...(opts.args ?? [])], {
    ...opts.user,
    env: { ...process.env, BO_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let buf = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      raw.push(line);
      let rec: LogLine;
      try {
        rec = JSON.parse(line) as LogLine;
      } catch {
        rec = { msg: line, raw: true };
      }
      logs.push(rec);
      for (const w of [...waiters]) {
        if (!w.pred(rec)) continue;
        waiters.delete(w);
        w.resolve(rec);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc: DaemonProc = {
    child,
    logs,
    raw,
    stderr: () => err,
    exited,
    waitFor(pred, ms = 20_000) {
      const seen = logs.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.add(w);
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `daemon did not log what the test waited for within ${ms} ms; stderr: ${err}\nlog: ${logs.map((l) => JSON.stringify(l)).join('\n')}`,
            ),
          );
        }, ms);
        void exited.then(() => {
          if (!waiters.has(w)) return;
          clearTimeout(t);
          waiters.delete(w);
          reject(new Error(`daemon exited before logging what the test waited for; stderr: ${err}`));
        });
        const orig = w.resolve;
        w.resolve = (l) => {
          clearTimeout(t);
          orig(l);
        };
      });
    },
  };
  if (opts.waitForStart !== false) await proc.waitFor((l) => l.msg === 'Daemon started');
  return proc;
}

/**
 * A directory to put first on the daemon's PATH holding a `tar` that streams archives written
 * to stdout at `bytesPerSecond`, so a backup of a few MB lasts long enough to be interrupted.
 * Everything else (the capability probe, restores) goes to the real tar untouched.
 */
export function slowTarDir(dir: string, bytesPerSecond: number): string {
  const bin = join(dir, 'slow-bin');
  mkdirSync(bin, { recursive: true });
  const throttle = `const rate=${bytesPerSecond};process.stdin.on('data',(c)=>{process.stdin.pause();process.stdout.write(c,()=>setTimeout(()=>process.stdin.resume(),(c.length*1000)/rate));});`;
  writeFileSync(join(bin, 'throttle.cjs'), throttle);
  writeFileSync(
    join(bin, 'tar'),
    `#!/bin/bash
# test fixture: a slow tar (see daemon-proc.ts)
set -o pipefail
args=" $* "
if [[ "$args" == *" -c "* && "$args" == *" -f - "* ]]; then
  /usr/bin/tar "$@" | "${process.execPath}" "${join(bin, 'throttle.cjs')}"
else
  exec /usr/bin/tar "$@"
fi
`,
  );
  chmodSync(join(bin, 'tar'), 0o755);
  return bin;
}
