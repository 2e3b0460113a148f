import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { RemoteError, throwIfAborted } from '../errors.ts';
import type { ExecOptions, Host, RemoteProcess } from './host.ts';
import { runCommand } from './run.ts';
import { type Supervised, supervise } from './supervise.ts';

const LOCAL_NAME = 'local';

/**
 * This machine as a Host: `/bin/sh -c` in its own process group, so aborting kills the whole
 * pipeline the command started (`tar | zstd`), not just the shell.
 */
export function createLocalHost(): Host {
  const active = new Set<Supervised>();

  async function exec(command: string, opts: ExecOptions = {}): Promise<RemoteProcess> {
    throwIfAborted(opts.signal);
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: 'pipe' });
    await started(child);
    let closed = false;
    // After 'close' the group may be gone and its id reused by someone else: leave it alone.
    const kill = () => {
      if (!closed) killGroup(child);
    };
    const supervised = supervise({
      host: LOCAL_NAME,
      stdout: child.stdout,
      stderr: child.stderr,
      signal: opts.signal,
      idleTimeoutMs: opts.idleTimeoutMs ?? 0,
      kill,
    });
    active.add(supervised);
    child.once('close', (code, signal) => {
      closed = true;
      supervised.finish({ code, signal });
    });
    supervised.done.then(
      () => active.delete(supervised),
      () => active.delete(supervised),
    );
    // EPIPE when the command exits without reading its input: reported through pipeline()/done.
    child.stdin.on('error', () => {});
    return {
      stdin: child.stdin,
      stdout: supervised.stdout,
      stderr: supervised.stderr,
      done: supervised.done,
      kill,
    };
  }

  return {
    name: LOCAL_NAME,
    exec,
    run: (command, opts) => runCommand(exec, command, opts),
    async close() {
      const err = new RemoteError('local host closed while a command was running');
      for (const p of active) p.fail(err);
    },
  };
}

function started(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    // Later errors (a failed kill) are not fatal; the first one before 'spawn' is.
    child.on('error', (err) =>
      reject(new RemoteError(`cannot start /bin/sh on this machine: ${err.message}`, { cause: err })),
    );
  });
}

function killGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone
  }
}
