/**
 * Through any node: `bo jobs` lists the cluster's jobs, and `bo run` asked of one node whose own
 * slots are full runs on another node and is followed there until it ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runBo } from '../../fixtures/bo.ts';
import { cleanUp, clusterEnv, coordination, settledRuns } from './cluster-env.ts';

afterEach(cleanUp);

describe('any node', () => {
  it('answers bo jobs, and follows a bo run that executes on another node', async () => {
    const c = await clusterEnv();
    if (!c) return;
    const job = { host: 'local', paths: [c.dir], storage: 'repo' };
    c.write({
      storage: { repo: { type: 'filesystem', path: c.repo } },
      jobs: { slow: job, quick: job },
      daemon: { perHostConcurrency: 2 },
      coordination: coordination({ nodeConcurrency: 1 }),
    });
    const bench = { args: ['--bench-noop-jobs'], env: { BO_BENCH: '1', BO_BENCH_SLOW_JOB: 'slow' } };
    const node1 = await c.start(1, bench);
    const env = { BO_PG_URL: c.url };
    // node 1's only slot is taken by a run that lasts a minute...
    const slow = await runBo(['--config', c.cfg(1), 'run', 'slow', '--detach'], { env });
    expect(slow.code, slow.stderr).toBe(0);
    await node1.waitFor((l) => l.msg === 'Run started' && l.job === 'slow');
    const node2 = await c.start(2, bench);
    // ...so a run asked of node 1 executes on node 2, and node 1 follows it to the end.
    const quick = await runBo(['--config', c.cfg(1), 'run', 'quick', '--json'], { env });
    expect(quick.code, quick.stderr + quick.stdout).toBe(0);
    await node2.waitFor((l) => l.msg === 'Run finished' && l.job === 'quick');
    expect(node1.logs.some((l) => l.msg === 'Run started' && l.job === 'quick')).toBe(false);
    const rows = await settledRuns(c, (r) => r.job === 'quick');
    expect(rows.map((r) => [r.node, r.outcome, r.trigger])).toEqual([['node2', 'ok', 'manual']]);
    for (const i of [1, 2]) {
      const jobs = await runBo(['--config', c.cfg(i), 'jobs', '--json'], { env });
      expect(jobs.code, jobs.stderr).toBe(0);
      expect(jobs.stdout).toMatch(/"quick"/);
      const st = JSON.parse((await runBo(['--config', c.cfg(i), 'status', '--json'], { env })).stdout) as {
        jobs: Array<{ job: string; state: string; run?: { node?: string } }>;
      };
      expect(st.jobs.find((j) => j.job === 'slow')).toMatchObject({
        state: 'running',
        run: { node: 'node1' },
      });
    }
  }, 120_000);
});
