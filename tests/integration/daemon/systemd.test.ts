/**
 * systemd integration: the shipped unit passes `systemd-analyze verify`, and the daemon tells
 * systemd it is ready (Type=notify) and stopping through systemd-notify.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BO_BIN } from '../../fixtures/bo.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';
import { spawnDaemon } from './daemon-proc.ts';

const UNIT = new URL('../../../systemd/bo.service', import.meta.url);
const run = promisify(execFile);
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('systemd/bo.service', () => {
  it('passes systemd-analyze verify', async () => {
    if (missing('systemd-analyze', hasCommand('systemd-analyze'), 'Debian package systemd')) return;
    dir = await mkdtemp(join(tmpdir(), 'bo-unit-'));
    const text = readFileSync(UNIT, 'utf8');
    expect(text).toMatch(/^ExecStart=\/usr\/local\/bin\/bo --config \/etc\/bo\/bo.yaml daemon$/m);
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
    // verify insists that ExecStart's binary exists; this machine has bo in the checkout, not in
    // /usr/local/bin, so check a copy that points there (the only difference).
    const unit = join(dir, 'bo.service');
    writeFileSync(unit, text.replace('ExecStart=/usr/local/bin/bo ', `ExecStart=${BO_BIN} `));
    const { stdout, stderr } = await run('systemd-analyze', ['verify', unit]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });

  it('the daemon notifies readiness and stopping through systemd-notify', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bo-notify-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const record = join(dir, 'notified');
    // stands in for systemd's helper: records what bo asked it to send
    writeFileSync(join(bin, 'systemd-notify'), `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> ${record}\n`);
    chmodSync(join(bin, 'systemd-notify'), 0o755);
    const cfg = join(dir, 'bo.yaml');
    writeFileSync(
      cfg,
      stringify({
        stateDir: join(dir, 'state'),
        daemon: { socket: join(dir, 'bo.sock'), http: { listen: '127.0.0.1:0' } },
      }),
    );
    const d = await spawnDaemon(cfg, {
      NOTIFY_SOCKET: '/run/systemd/notify',
      PATH: `${bin}:${process.env.PATH}`,
    });
    expect(readFileSync(record, 'utf8')).toMatch(
      /^\/run\/systemd\/notify --ready --status=0 jobs scheduled$/m,
    );
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
    expect(readFileSync(record, 'utf8')).toMatch(/--status=stopping STOPPING=1$/m);
  });
});
