/**
 * Failover with real backups: the node running a backup is killed with SIGKILL mid-stream; its
 * lease runs out, the run is marked abandoned and retried on another node under the job's retry
 * policy, and succeeds, continuing the job's incremental chain from the state in PostgreSQL. The
 * killed node never committed: one manifest for the slot.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBo } from '../../fixtures/bo.ts';
import { slowTarDir } from '../daemon/daemon-proc.ts';
import { cleanUp, clusterEnv, coordination, cronAt, manifests, runEnd, settledRuns } from './cluster-env.ts';

afterEach(cleanUp);

describe('a node killed mid-backup', () => {
  it('loses its lease; another node retries the run, which succeeds, with one manifest for the slot', async () => {
    const c = await clusterEnv();
    if (!c) return;
    const src = join(c.dir, 'src');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    const slow = slowTarDir(c.dir, 512 * 1024);
    const job = (cron: string) => ({
      files: { host: 'local', paths: [src], storage: 'repo', schedule: cron, retries: 2, retryDelay: '1s' },
    });
    const base = { storage: { repo: { type: 'filesystem', path: c.repo } }, coordination: coordination() };
    // A first, quick backup on node 1 starts the chain (its state goes to PostgreSQL).
    c.write({ ...base, jobs: job('0 0 1 1 *') });
    const env = { PATH: `${slow}:${process.env.PATH}` };
    const nodes = [await c.start(1, { env }), await c.start(2, { env }), await c.start(3, { env })];
    const first = await runBo(['--config', c.cfg(1), 'backup', 'now', 'files'], {
      env: { BO_PG_URL: c.url },
    });
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(manifests(c.repo, 'files')).toHaveLength(1);
    // Now a big file and one scheduled slot: whichever node takes it is killed mid-stream.
    writeFileSync(join(src, 'big.bin'), randomBytes(6 * 1024 * 1024));
    const slot = cronAt(6000);
    c.write({ ...base, jobs: job(slot.cron) });
    for (const n of nodes) n.child.kill('SIGHUP');
    const started = await Promise.any(
      nodes.map((n, i) =>
        n
          .waitFor((l) => l.msg === 'Run started' && l.job === 'files' && l.trigger === 'schedule', 40_000)
          .then(() => i),
      ),
    );
    const victim = nodes[started]!;
    await victim.waitFor((l) => l.msg === 'Backup started' && l.job === 'files' && l.chainLevel === 1);
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    const others = nodes.filter((n) => n !== victim);
    const retry = await Promise.any(
      others.map((n) =>
        n.waitFor((l) => l.msg === 'Run started' && l.job === 'files' && l.attempt === 2, 60_000),
      ),
    );
    const failoverMs = Number(retry.time) - killedAt;
    expect(failoverMs).toBeGreaterThan(0);
    const survivor = others.find((n) => n.logs.includes(retry))!;
    // The survivor may have run the first backup too: wait for the end of this run.
    const done = await runEnd(survivor, retry.runId, 90_000);
    expect(done.msg, JSON.stringify(survivor.logs.slice(-20))).toBe('Run finished');
    const rows = await settledRuns(
      c,
      (r) => r.scheduled_at !== null && Date.parse(r.scheduled_at) === slot.at.getTime(),
    );
    expect(rows.map((r) => [r.attempt, r.outcome, r.trigger])).toEqual([
      [1, 'abandoned', 'schedule'],
      [2, 'ok', 'retry'],
    ]);
    expect(rows[0]!.node).not.toBe(rows[1]!.node);
    // One manifest for the slot, and it continues the chain the first node started.
    const all = manifests(c.repo, 'files');
    expect(all).toHaveLength(2);
    const second = all.find((m) => m.id === rows[1]!.backup_id)!;
    expect(second.chain.type).toBe('incremental');
    expect(second.chain.parent).toBe(all.find((m) => m.id !== second.id)!.id);
  }, 240_000);
});
