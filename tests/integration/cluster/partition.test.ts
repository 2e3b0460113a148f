/**
 * A node cut off from PostgreSQL (a TCP proxy between it and the database, then cut) while it
 * still reaches the storage must not commit: its backup reaches the commit point, the fence
 * cannot renew the lease, and no manifest is written. Another node retries the run and commits.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy } from '../../fixtures/tcp-proxy.ts';
import { slowTarDir } from '../daemon/daemon-proc.ts';
import { cleanUp, clusterEnv, coordination, cronAt, manifests, runEnd, settledRuns } from './cluster-env.ts';

afterEach(cleanUp);

describe('a node partitioned from PostgreSQL', () => {
  it('does not commit its backup; another node retries the run and commits it', async () => {
    const c = await clusterEnv();
    if (!c) return;
    const proxy = await startTcpProxy(c.pg.tcpPort!);
    const src = join(c.dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'big.bin'), randomBytes(5 * 1024 * 1024));
    const slow = slowTarDir(c.dir, 1024 * 1024);
    const slot = cronAt(5000);
    c.write({
      storage: { repo: { type: 'filesystem', path: c.repo } },
      jobs: {
        files: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          schedule: slot.cron,
          retries: 2,
          retryDelay: '1s',
        },
      },
      coordination: coordination({ leaseTimeout: '15s' }),
    });
    const env = { PATH: `${slow}:${process.env.PATH}` };
    const cutOff = await c.start(1, { env, url: `postgres://postgres@127.0.0.1:${proxy.port}/postgres` });
    await cutOff.waitFor((l) => l.msg === 'Backup started', 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    proxy.cut();
    const other = await c.start(2, { env });
    // The cut-off node reaches its commit point within its lease, and the fence refuses.
    const refused = await cutOff.waitFor((l) => l.msg === 'Run failed' || l.msg === 'Run finished', 30_000);
    expect(refused.msg).toBe('Run failed');
    expect(String(refused.error)).toMatch(/not committing/);
    expect(manifests(c.repo, 'files')).toEqual([]);
    // The other node takes the run over once the lease ran out, and commits it.
    const retried = await other.waitFor((l) => l.msg === 'Run started' && l.attempt === 2, 60_000);
    expect(retried.job).toBe('files');
    const done = await runEnd(other, retried.runId, 60_000);
    expect(done.msg, JSON.stringify(other.logs.slice(-20))).toBe('Run finished');
    expect(manifests(c.repo, 'files').map((m) => m.id)).toEqual([done.backupId]);
    proxy.heal();
    await proxy.close();
    const rows = await settledRuns(c);
    expect(rows.map((r) => [r.attempt, r.outcome, r.node])).toEqual([
      [1, 'abandoned', 'node1'],
      [2, 'ok', 'node2'],
    ]);
  }, 180_000);
});
