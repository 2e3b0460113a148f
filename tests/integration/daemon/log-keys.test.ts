/**
 * Every JSON log line the real daemon and CLI write has unique keys. A run's logger binds runId,
 * job, kind and host; job code binds some again and logs fields of the same names (a health
 * check's change kind), and JSON.parse keeps only the last of a repeated key without a word, so
 * the lines are scanned as text (tests/fixtures/json-keys.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { linesWithDuplicateKeys } from '../../fixtures/json-keys.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { deadPort } from '../health/env.ts';
import { type DaemonProc, spawnDaemon } from './daemon-proc.ts';

let sshd: SshdFixture | undefined;
let dir: string;
let daemon: DaemonProc | undefined;
beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'bo-log-keys-'));
});
afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('log lines of the daemon and the CLI', () => {
  it('never repeat a key: scheduled backup, prune and health runs, then the same jobs inline', async ({
    skip,
  }) => {
    if (!sshd) return skip();
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    const every2s = '*/2 * * * * *';
    const raw = {
      stateDir: join(dir, 'state'),
      daemon: { socket: join(dir, 'bo.sock') },
      hosts: { files1: sshd.hostConfig() },
      storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
      health: {
        defaults: false,
        debounce: 1,
        hostTimeout: '20s',
        // Nothing listens there: crit at once, a state change logged with its change kind.
        checks: [{ check: 'tcp', hosts: ['files1'], port: await deadPort(), timeout: '2s' }],
      },
      jobs: {
        web: { host: 'files1', paths: [src], storage: 'repo', schedule: every2s },
        tidy: { kind: 'prune', schedule: every2s },
        fleet: { kind: 'health', schedule: every2s },
      },
    };
    const cfg = writeConfig(raw, dir);
    daemon = await spawnDaemon(cfg, { BO_LOG_LEVEL: 'trace' });
    const changed = await daemon.waitFor((l) => l.msg === 'Health state changed', 60_000);
    for (const job of ['web', 'tidy', 'fleet'])
      await daemon.waitFor((l) => l.msg === 'Run finished' && l.job === job, 60_000);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toMatchObject({ code: 0 });
    expect(linesWithDuplicateKeys(daemon.raw.join('\n'))).toEqual([]);
    expect(changed).toMatchObject({ job: 'fleet', kind: 'health', changeKind: 'change', to: 'crit' });

    // The same jobs run by the CLI, without a daemon: JSON logs on stderr.
    const cli = writeConfig(
      { ...raw, daemon: { socket: join(dir, 'none.sock') } },
      mkdtempSync(join(dir, 'cli-')),
    );
    for (const args of [
      ['backup', 'now', 'web'],
      ['run', 'tidy', 'fleet'],
    ]) {
      const r = await runBo(['--config', cli, ...args], { env: { BO_LOG_LEVEL: 'trace' } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/"runId":/);
      expect(linesWithDuplicateKeys(r.stderr)).toEqual([]);
    }
  }, 120_000);
});
