import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BoResult, runBo, writeConfig } from '../../fixtures/bo.ts';
import { slowTarDir } from '../daemon/daemon-proc.ts';

interface Lock {
  scope: string;
  status: string;
  record?: { owner: { pid: number; purpose: string } };
}

/**
 * Prune against a real running backup (the real `bo`, a tar slowed down so the backup lasts):
 * prune is refused naming the lock's owner; after the backup process is killed with SIGKILL,
 * the next prune takes the stale lock over at once and prunes.
 */
describe('bo prune while a real backup of the job runs', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-contention-'));
  const src = join(work, 'src');
  let config: string;
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);
  const heldLocks = async () =>
    (JSON.parse((await bo('locks', '--json')).stdout) as { locks: Lock[] }).locks.filter(
      (l) => l.status === 'held',
    );

  beforeAll(async () => {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'big.bin'), randomBytes(4 * 1024 * 1024));
    config = writeConfig({
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      jobs: {
        files: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          compression: 'none',
          incremental: false,
          retention: { last: 1 },
        },
      },
    });
    for (let i = 0; i < 2; i++) expect((await bo('backup', 'now', 'files')).code).toBe(0);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('refuses naming the running backup, then takes over its stale lock after kill -9', async () => {
    const slow = slowTarDir(work, 256 * 1024); // 4 MiB: about 16 s
    let pid = 0;
    const backup: Promise<BoResult> = runBo(['--config', config, 'backup', 'now', 'files'], {
      env: { PATH: `${slow}:${process.env.PATH}` },
      onSpawn: (p) => (pid = p),
    });
    let held: Lock[] = [];
    for (let i = 0; i < 100 && held.length === 0; i++) {
      held = await heldLocks();
      if (held.length === 0) await sleep(100);
    }
    expect(held).toMatchObject([{ scope: 'job/files', record: { owner: { pid, purpose: 'backup' } } }]);

    const refused = await bo('prune', 'files');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      new RegExp(`FAILED: job/files is locked by backup on \\S+ \\(pid ${pid}, run [\\w-]+\\) since `),
    );
    expect(refused.stdout).toMatch(
      /^ {2}hint: it is released when that run ends; if its owner died, it expires/m,
    );

    process.kill(pid, 'SIGKILL');
    expect((await backup).signal).toBe('SIGKILL');
    // Its lock is still in storage; its owner is a dead process of this machine, so it is stale.
    const left = JSON.parse((await bo('locks', '--json')).stdout) as { locks: Lock[] };
    expect(left.locks).toMatchObject([{ scope: 'job/files', status: 'stale', record: { owner: { pid } } }]);

    const pruned = await runBo(['--config', config, 'prune', 'files'], { env: { BO_LOG_LEVEL: 'warn' } });
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(pruned.stderr).toMatch(/"msg":"Taking over a stale lock"/);
    expect(pruned.stdout).toMatch(/done: deleted 1 backup\(s\)/);
    expect(await heldLocks()).toEqual([]);
  });
});
