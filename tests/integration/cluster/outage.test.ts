/**
 * The cluster through a PostgreSQL outage and through a rolling restart (each node stopped and
 * started again in turn, and a SIGHUP to all): no slot runs twice, and none is missed while at
 * least one node and the database are up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ClusterEnv, cleanUp, clusterEnv, coordination } from './cluster-env.ts';

afterEach(cleanUp);

const PERIOD_S = 3;
const bench = { args: ['--bench-noop-jobs'], env: { BO_BENCH: '1' } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(c: ClusterEnv, jobs: number): string[] {
  const seconds = (i: number) =>
    Array.from({ length: 60 / PERIOD_S }, (_, k) => k * PERIOD_S + (i % PERIOD_S)).join(',');
  const names = Array.from({ length: jobs }, (_, i) => `job${i}`);
  c.write({
    storage: { repo: { type: 'filesystem', path: c.repo } },
    jobs: Object.fromEntries(
      names.map((n, i) => [
        n,
        {
          host: 'local',
          paths: [c.dir],
          storage: 'repo',
          schedule: `${seconds(i)} * * * * *`,
          catchUp: false,
        },
      ]),
    ),
    daemon: { concurrency: 8, perHostConcurrency: 8 },
    coordination: coordination(),
  });
  return names;
}

/** Runs per slot (`job time`), and the slots of [from, to) that did not run. */
function tally(c: ClusterEnv, names: string[], windows: Array<[number, number]>) {
  const bySlot = new Map<string, number>();
  for (const r of c.runs()) {
    const k = `${r.job} ${new Date(r.scheduled_at!).toISOString()}`;
    bySlot.set(k, (bySlot.get(k) ?? 0) + 1);
  }
  const missed: string[] = [];
  for (const [from, to] of windows)
    for (const [i, n] of names.entries())
      for (let s = Math.ceil(from / 1000); s * 1000 < to; s++) {
        if (s % PERIOD_S !== i % PERIOD_S) continue;
        const k = `${n} ${new Date(s * 1000).toISOString()}`;
        if (!bySlot.has(k)) missed.push(k);
      }
  return { dups: [...bySlot].filter(([, k]) => k > 1), missed, slots: bySlot.size };
}

describe('the cluster', () => {
  it('runs no slot twice through a 20 s PostgreSQL outage, and resumes after it', async () => {
    const c = await clusterEnv();
    if (!c) return;
    const names = setup(c, 10);
    const nodes = [await c.start(1, bench), await c.start(2, bench), await c.start(3, bench)];
    const t0 = Date.now();
    await sleep(12_000);
    const down = Date.now();
    c.pg.pause();
    await sleep(20_000);
    c.pg.resume();
    const up = Date.now();
    await sleep(20_000);
    const t1 = Date.now();
    for (const n of nodes) n.child.kill('SIGTERM');
    await Promise.all(nodes.map((n) => n.exited));
    const { dups, missed, slots } = tally(c, names, [
      [t0 + 3000, down - 2000],
      // Back to normal within a few seconds of the database's return.
      [up + 8000, t1 - 3000],
    ]);
    expect(dups).toEqual([]);
    expect(missed).toEqual([]);
    expect(slots).toBeGreaterThan(names.length * 6);
    for (const n of nodes)
      expect(n.logs.some((l) => l.msg === 'Cluster database error; retrying')).toBe(true);
  }, 150_000);

  it('misses and duplicates no slot through a rolling restart and a SIGHUP to every node', async () => {
    const c = await clusterEnv();
    if (!c) return;
    const names = setup(c, 10);
    const nodes = [await c.start(1, bench), await c.start(2, bench), await c.start(3, bench)];
    const t0 = Date.now();
    await sleep(6_000);
    for (const i of [0, 1, 2]) {
      nodes[i]!.child.kill('SIGTERM');
      await nodes[i]!.exited;
      await sleep(2_000);
      nodes[i] = await c.start(i + 1, bench);
      await sleep(4_000);
    }
    for (const n of nodes) n.child.kill('SIGHUP');
    await sleep(6_000);
    const t1 = Date.now();
    for (const n of nodes) n.child.kill('SIGTERM');
    await Promise.all(nodes.map((n) => n.exited));
    const { dups, missed } = tally(c, names, [[t0 + 3000, t1 - 3000]]);
    expect(dups).toEqual([]);
    expect(missed).toEqual([]);
  }, 150_000);
});
