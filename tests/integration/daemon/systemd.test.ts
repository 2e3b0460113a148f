/**
 * systemd integration: the unit bo prints passes `systemd-analyze verify`, and the daemon tells
 * systemd it is ready (Type=notify) and stopping through the real systemd-notify, received on a
 * datagram socket the test listens on.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectDaemon } from '../../../src/daemon/client.ts';
import { BO_BIN, runBo } from '../../fixtures/bo.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';
import { spawnDaemon } from './daemon-proc.ts';
import { listenForNotify } from './notify-socket.ts';

const run = promisify(execFile);
let dir: string | undefined;

const notifyMissing = () =>
  missing(
    'systemd-notify and python3',
    hasCommand('systemd-notify') && hasCommand('python3'),
    'Debian packages systemd and python3',
  );

function config(d: string, daemon: Record<string, unknown> = {}): string {
  const file = join(d, 'bo.yaml');
  writeFileSync(
    file,
    stringify({ stateDir: join(d, 'state'), daemon: { socket: join(d, 'bo.sock'), ...daemon } }),
  );
  return file;
}

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the systemd unit (bo daemon --print-unit)', () => {
  it('passes systemd-analyze verify', async () => {
    if (missing('systemd-analyze', hasCommand('systemd-analyze'), 'Debian package systemd')) return;
    dir = await mkdtemp(join(tmpdir(), 'bo-unit-'));
    const printed = await runBo(['daemon', '--print-unit']);
    expect(printed.code, printed.stderr).toBe(0);
    const text = printed.stdout;
    // Node 24 named explicitly, so systemd's main PID is the daemon, never bin/bo's re-exec wrapper;
    // the memory options are bin/bo's (tests/unit/daemon/unit.test.ts).
    expect(text).toContain(
      `\nExecStart=${process.execPath} --max-semi-space-size=2 --initial-old-space-size=64 ${BO_BIN} --config /etc/bo/bo.yaml daemon\n`,
    );
    expect(text).toContain('Environment=MALLOC_MMAP_THRESHOLD_=262144');
    for (const key of [
      'Type=notify',
      'Restart=on-failure',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'PrivateTmp=yes',
      'ReadWritePaths=/var/lib/bo',
    ]) {
      expect(text).toContain(key);
    }
    expect(text).toMatch(/^ProtectHome=/m);
    expect(text).toMatch(/LoadCredential=/);
    // verify insists that ExecStart's binary exists: this is the unit for this checkout.
    const unit = join(dir, 'bo.service');
    writeFileSync(unit, text);
    const { stdout, stderr } = await run('systemd-analyze', ['verify', unit]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });

  it('sends READY=1 through the real systemd-notify only once the control socket answers, STOPPING=1 on stop', async () => {
    if (notifyMissing()) return;
    dir = await mkdtemp(join(tmpdir(), 'bo-notify-'));
    const cfg = config(dir, { shutdownGrace: '5s' });
    const notify = await listenForNotify(dir, { hold: true });
    try {
      const d = await spawnDaemon(cfg, { NOTIFY_SOCKET: notify.path }, { waitForStart: false });
      const ready = await notify.next((m) => m.startsWith('READY=1'));
      expect(ready).toBe('READY=1\nSTATUS=0 jobs scheduled');
      // The daemon is still inside its notification (the barrier is held): its socket answers.
      expect((await connectDaemon(join(dir, 'bo.sock')))?.pid).toBe(d.child.pid);
      expect(d.logs.some((l) => l.msg === 'Daemon started')).toBe(false);
      notify.release();
      await d.waitFor((l) => l.msg === 'Daemon started');

      d.child.kill('SIGTERM');
      const stopping = await notify.next((m) => m.includes('STOPPING=1'));
      // the longest stop: grace 5 s + 30 s after cancelling + 15 s to close, past TimeoutStopSec
      expect(stopping).toBe('STATUS=stopping\nSTOPPING=1\nEXTEND_TIMEOUT_USEC=50000000');
      notify.release();
      expect((await d.exited).code).toBe(0);
      expect(notify.messages.filter((m) => m === 'BARRIER=1')).toHaveLength(2);
    } finally {
      notify.stop();
    }
  });

  it('applies a SIGHUP that arrives while starting once the daemon is up', async () => {
    if (notifyMissing()) return;
    dir = await mkdtemp(join(tmpdir(), 'bo-notify-'));
    const cfg = config(dir);
    const notify = await listenForNotify(dir, { hold: true });
    try {
      const d = await spawnDaemon(cfg, { NOTIFY_SOCKET: notify.path }, { waitForStart: false });
      await notify.next((m) => m.startsWith('READY=1'));
      d.child.kill('SIGHUP'); // still starting: it waits for systemd to take READY=1
      await d.waitFor(
        (l) => l.msg === 'SIGHUP received while starting: the config is re-read once the daemon is up',
      );
      notify.release();
      await d.waitFor((l) => l.msg === 'Config reloaded');
      expect(d.child.exitCode).toBeNull();
      notify.release(); // the reload's STATUS= message
      d.child.kill('SIGTERM');
      notify.release();
      expect((await d.exited).code).toBe(0);
    } finally {
      notify.stop();
    }
  });
});
