import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../../src/daemon/status.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';

/**
 * `bo status` without a daemon, as a monitoring probe and as a person reads it: the last success
 * stays visible after a run that failed or was abandoned, and the exit code is 1 for what the
 * README promises (no daemon for scheduled jobs, a failed restore drill).
 */
describe('bo status without a daemon', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-cli-status-'));
  const src = join(work, 'src');
  const started = join(work, 'hook.pid');
  let config: string;
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);

  beforeAll(async () => {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    const local = { host: 'local', paths: [src], storage: 'repo' };
    config = writeConfig({
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      jobs: {
        files: { ...local, schedule: '0 3 * * *' },
        // a run that waits in its before hook until the test kills bo
        slow: { ...local, before: [`test -e ${started} || { echo $$ > ${started}; exec sleep 60; }`] },
      },
    });
    writeFileSync(started, ''); // the hook waits only once this is gone
    for (const job of ['files', 'slow']) {
      const r = await bo('backup', 'now', job);
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(() => {
    try {
      process.kill(Number(readFileSync(started, 'utf8')), 'SIGKILL'); // the hook's sleep
    } catch {
      // already gone
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('exits 1 when jobs have a schedule but no daemon runs them', async () => {
    const r = await bo('status');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^problem: no daemon is running, but 1 job has a schedule: nothing runs it \(start it: systemctl start bo, or bo daemon\)$/m,
    );
  });

  it('exits 1 when a backup job’s last restore drill failed', async () => {
    const d = await bo('drill', 'files', '--to', '/proc/nope');
    expect(d.code).toBe(1);
    const r = await bo('status', '--json');
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as StatusReport).problems).toContainEqual(
      expect.stringMatching(/^files: last restore drill FAILED: .*\/proc\/nope/),
    );
  });

  it('shows the success before a run that bo was killed in, beside it', async () => {
    rmSync(started);
    let kill!: (s: NodeJS.Signals) => void;
    const killed = runBo(['--config', config, 'backup', 'now', 'slow'], { onSpawn: (_pid, k) => (kill = k) });
    for (let i = 0; !existsSync(started) && i < 1200; i++) await sleep(50);
    expect(existsSync(started)).toBe(true);
    kill('SIGKILL');
    await killed;
    const r = await bo('status');
    expect(r.stdout).not.toMatch(/never ran/);
    expect(r.stdout).toMatch(
      /^slow\s+backup\s+local\s+ok \d+s ago · \d+s · source \S+ \S+, stored \S+ \S+( · full)?\s+ABANDONED, started \d+s ago: bo stopped while the run was in progress/m,
    );
    expect(r.code).toBe(1);
  });
});
