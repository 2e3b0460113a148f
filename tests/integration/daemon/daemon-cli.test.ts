/**
 * The CLI around the real daemon when things are not fine: a daemon that does not answer, a
 * state database the user may only read (or not at all), a control socket that cannot be made.
 * Runs some `bo` processes as user nobody (the tests run as root), as an admin's colleague would.
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../../src/daemon/status.ts';
import { runBo } from '../../fixtures/bo.ts';
import { waitUntil } from '../../fixtures/until.ts';
import { base, cleanUp, daemon, env, localJob, runEnded } from './daemon-env.ts';

afterEach(cleanUp);

const NOBODY = { uid: 65534, gid: 65534 };
const asRoot = process.getuid?.() === 0;
const NO_TRACE = /this is a bug|\n\s+at /;

/** True when the process has a socket open besides its stdio (socketpairs when spawned by Node). */
function hasSocket(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      if (Number(fd) <= 2) return false;
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Makes `path` owned by root and group nobody's group, with `mode`. */
function share(path: string, mode: number): void {
  chownSync(path, 0, NOBODY.gid);
  chmodSync(path, mode);
}

describe('bo status with a daemon that does not answer', () => {
  it('gives up after 10 s with "daemon not answering", and stops at once on SIGTERM', async () => {
    const e = await env();
    e.write({ ...base(e), jobs: { a: localJob(e) } });
    const d = await daemon(e);
    d.child.kill('SIGSTOP');
    try {
      const slow = await runBo(['--config', e.cfg, 'status']);
      expect(slow.code).toBe(1);
      expect(slow.stderr).toMatch(/^bo: daemon not answering on \S+bo\.sock \(no reply within 10 s\)$/m);
      expect(slow.stderr).not.toMatch(NO_TRACE);

      let kill!: (s: NodeJS.Signals) => void;
      let pid = 0;
      const onSpawn = (p: number, k: typeof kill) => {
        pid = p;
        kill = k;
      };
      const waiting = runBo(['--config', e.cfg, 'status'], { onSpawn });
      // once it has a socket open it is waiting for the daemon (its signal handlers are in)
      await waitUntil(() => hasSocket(pid), 'bo status to connect');
      kill('SIGTERM');
      const stopped = await waiting;
      expect(stopped.code).toBe(130);
      expect(stopped.stderr).toContain('stopped waiting for the daemon');
    } finally {
      d.child.kill('SIGCONT');
    }
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });
});

describe('bo status without a daemon, as a user who may only read the history', () => {
  async function ranOnce(stop: 'SIGTERM' | 'SIGKILL') {
    const e = await env();
    chmodSync(e.dir, 0o755);
    e.write({ ...base(e), jobs: { a: localJob(e) } });
    chmodSync(e.cfg, 0o644);
    const d = await daemon(e);
    expect((await runBo(['--config', e.cfg, 'backup', 'now', 'a'])).code).toBe(0);
    await d.waitFor(runEnded('a'));
    d.child.kill(stop);
    await d.exited;
    share(e.stateDir, 0o750);
    for (const f of readdirSync(e.stateDir)) share(join(e.stateDir, f), 0o640);
    try {
      share(e.socket, 0o660); // a kill -9 leaves it behind: stale, but group members may connect
    } catch {
      // removed on a clean stop
    }
    return e;
  }

  it('reads a cleanly closed database (no -wal) and creates nothing in stateDir', async () => {
    if (!asRoot) return;
    const e = await ranOnce('SIGTERM');
    const before = readdirSync(e.stateDir).sort();
    expect(before).toEqual(['incremental', 'state.db']);
    for (const user of [NOBODY, undefined]) {
      const r = await runBo(['--config', e.cfg, 'status', '--json'], { user });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(JSON.parse(r.stdout) as StatusReport).toMatchObject({
        source: 'state-db',
        jobs: [{ job: 'a', lastRun: { outcome: 'ok' } }],
        problems: [],
      });
    }
    // root's read-only look must not leave root-owned -wal/-shm the daemon could not open
    expect(readdirSync(e.stateDir).sort()).toEqual(before);
  });

  it('reads the -wal a killed daemon left, through its -shm', async () => {
    if (!asRoot) return;
    const e = await ranOnce('SIGKILL');
    expect(readdirSync(e.stateDir).sort()).toEqual([
      'incremental',
      'state.db',
      'state.db-shm',
      'state.db-wal',
    ]);
    const r = await runBo(['--config', e.cfg, 'status', '--json'], { user: NOBODY });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      source: 'state-db',
      jobs: [{ lastRun: { outcome: 'ok' } }],
    });
  });

  it('exits 1 with the reason when the history cannot be read', async () => {
    if (!asRoot) return;
    const e = await ranOnce('SIGTERM');
    chmodSync(e.stateDir, 0o700); // not even group bo may look
    const r = await runBo(['--config', e.cfg, 'status'], { user: NOBODY });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^problem: cannot read the run history in \S+state\.db: permission denied \(/m);
    expect(r.stderr).not.toMatch(NO_TRACE);
  });
});

describe('bo daemon when the control socket cannot be made', () => {
  it('explains EACCES, a missing permission, a too long path and a non-socket without a stack trace', async () => {
    if (!asRoot) return;
    const e = await env();
    chmodSync(e.dir, 0o755);
    const state = join(e.dir, 'nobody-state');
    mkdirSync(state);
    chownSync(state, NOBODY.uid, NOBODY.gid);
    const start = async (socket: string, user?: typeof NOBODY) => {
      e.write({ ...base(e), stateDir: state, daemon: { socket } });
      chmodSync(e.cfg, 0o644);
      return runBo(['--config', e.cfg, 'daemon'], { user });
    };

    // a stale socket of root's (a crashed daemon's) in a directory nobody may not write
    const rootDir = join(e.dir, 'run-root');
    mkdirSync(rootDir, { mode: 0o755 });
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(join(rootDir, 'bo.sock'), r));
    await new Promise<void>((r) => stale.close(() => r()));
    const cases: Array<[string, string, typeof NOBODY | undefined, RegExp]> = [
      ['unlink', join(rootDir, 'bo.sock'), NOBODY, /: permission denied$/m],
      ['mkdir', join(rootDir, 'sub', 'bo.sock'), NOBODY, /: permission denied$/m],
      ['too long', join(e.dir, 'x'.repeat(120)), undefined, /: the path is longer than the 108 bytes/m],
    ];
    for (const [what, socket, user, message] of cases) {
      const r = await start(socket, user);
      expect(r.code, `${what}: ${r.stderr}`).toBe(1);
      expect(r.stderr, what).toMatch(/^bo: cannot create the control socket /m);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).toMatch(/^hint: /m);
      expect(r.stderr, what).not.toMatch(NO_TRACE);
    }
    // daemon.socket naming a file that is not a socket: refused, and the file is left alone
    const precious = join(e.dir, 'precious.txt');
    writeFileSync(precious, 'keep me');
    const r = await start(precious);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bo: daemon.socket \S+precious\.txt exists and is not a socket$/m);
    expect(readFileSync(precious, 'utf8')).toBe('keep me');
  });

  it('refuses the benchmark-only --bench-noop-jobs outside the benchmark, touching nothing', async () => {
    const e = await env();
    e.write({ ...base(e), jobs: { a: localJob(e) } });
    const r = await runBo(['--config', e.cfg, 'daemon', '--bench-noop-jobs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bo: --bench-noop-jobs is for bench\/scheduler\.ts only/m);
    expect(readdirSync(e.dir)).not.toContain('state');
  });
});
