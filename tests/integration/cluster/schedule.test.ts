/**
 * Three real daemons, one config, one PostgreSQL: every scheduled slot of every job runs exactly
 * once across the cluster, and `bo status` through each node shows the same cluster.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runBo } from '../../fixtures/bo.ts';
import { cleanUp, clusterEnv, coordination } from './cluster-env.ts';

afterEach(cleanUp);

const JOBS = 30;
const PERIOD_S = 5;
const RUN_S = Number(process.env.BO_CLUSTER_TEST_SECONDS ?? 60);

describe('three daemons on one PostgreSQL', () => {
  it(
    `runs each slot of ${JOBS} jobs every ${PERIOD_S} s exactly once for ${RUN_S} s, and every node shows the same cluster`,
    async () => {
      const c = await clusterEnv();
      if (!c) return;
      const jobs = Object.fromEntries(
        Array.from({ length: JOBS }, (_, i) => [
          `job${i}`,
          {
            host: 'local',
            paths: [c.dir],
            storage: 'repo',
            schedule: `${Array.from({ length: 60 / PERIOD_S }, (_, k) => k * PERIOD_S + (i % PERIOD_S)).join(',')} * * * * *`,
            catchUp: false,
          },
        ]),
      );
      c.write({
        storage: { repo: { type: 'filesystem', path: c.repo } },
        jobs,
        daemon: { concurrency: 12, perHostConcurrency: 12 },
        coordination: coordination(),
      });
      const bench = { args: ['--bench-noop-jobs'], env: { BO_BENCH: '1' } };
      const nodes = [await c.start(1, bench), await c.start(2, bench), await c.start(3, bench)];
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, RUN_S * 1000));
      const t1 = Date.now();

      // Every node answers with the same cluster: three live nodes, the same jobs and history.
      const views = await Promise.all(
        [1, 2, 3].map(async (i) => {
          const r = await runBo(['--config', c.cfg(i), 'status', '--json'], { env: { BO_PG_URL: c.url } });
          expect(r.code, r.stderr).toBeLessThanOrEqual(1);
          return JSON.parse(r.stdout) as {
            source: string;
            cluster: { node: string; nodes: Array<{ name: string; dead: boolean; configHash: string }> };
            jobs: Array<{ job: string }>;
          };
        }),
      );
      for (const [i, v] of views.entries()) {
        expect(v.source).toBe('daemon');
        expect(v.cluster.node).toBe(`node${i + 1}`);
        expect(v.cluster.nodes.map((n) => [n.name, n.dead])).toEqual([
          ['node1', false],
          ['node2', false],
          ['node3', false],
        ]);
        expect(new Set(v.cluster.nodes.map((n) => n.configHash)).size).toBe(1);
        expect(v.jobs.map((j) => j.job).sort()).toEqual(Object.keys(jobs).sort());
      }
      for (const n of nodes) n.child.kill('SIGTERM');
      await Promise.all(nodes.map((n) => n.exited));

      const runs = c.runs();
      // No slot ran twice.
      const bySlot = new Map<string, number>();
      for (const r of runs) {
        expect(r.scheduled_at, JSON.stringify(r)).not.toBeNull();
        const k = `${r.job} ${new Date(r.scheduled_at!).toISOString()}`;
        bySlot.set(k, (bySlot.get(k) ?? 0) + 1);
      }
      const dups = [...bySlot].filter(([, n]) => n > 1);
      expect(dups).toEqual([]);
      expect(runs.filter((r) => r.outcome !== 'ok')).toEqual([]);
      // No slot was missed: every slot from 3 s after the start to 3 s before the end ran.
      const missed: string[] = [];
      for (let i = 0; i < JOBS; i++) {
        for (let s = Math.ceil((t0 + 3000) / 1000); s * 1000 < t1 - 3000; s++) {
          if (s % PERIOD_S !== i % PERIOD_S) continue;
          const k = `job${i} ${new Date(s * 1000).toISOString()}`;
          if (!bySlot.has(k)) missed.push(k);
        }
      }
      expect(missed).toEqual([]);
      // The work was shared.
      const perNode = new Map<string, number>();
      for (const r of runs) perNode.set(r.node!, (perNode.get(r.node!) ?? 0) + 1);
      expect([...perNode.keys()].sort()).toEqual(['node1', 'node2', 'node3']);
    },
    (RUN_S + 90) * 1000,
  );
});
