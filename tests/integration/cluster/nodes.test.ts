/**
 * The cluster's members: a node running another config is reported, a node killed with SIGKILL
 * becomes a dead node in `bo status` on the others, and one alert (not one per surviving node)
 * goes to the health notifiers.
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { runBo } from '../../fixtures/bo.ts';
import { until } from '../../fixtures/until.ts';
import { cleanUp, clusterEnv, coordination } from './cluster-env.ts';

afterEach(cleanUp);

describe('cluster nodes', () => {
  it('reports a config that differs between nodes, and a dead node once, with an alert', async () => {
    const c = await clusterEnv();
    if (!c) return;
    const received: Array<{ check: string; subject: string; to: string }> = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as { port: number }).port;
    const config = (concurrency: number) => ({
      storage: { repo: { type: 'filesystem', path: c.repo } },
      jobs: { files: { host: 'local', paths: [c.dir], storage: 'repo' } },
      notify: { hook: { type: 'webhook', url: `http://127.0.0.1:${port}/alerts` } },
      health: { notify: ['hook'] },
      daemon: { concurrency, http: { enabled: true, listen: '127.0.0.1:0' } },
      coordination: coordination(),
    });
    c.write(config(4), 3);
    const nodes = [await c.start(1), await c.start(2)];
    c.write(config(6), 3); // node 3 starts with another config (a missed copy)
    nodes.push(await c.start(3));
    const env = { BO_PG_URL: c.url };
    await nodes[0]!.waitFor(
      (l) => l.msg === 'Cluster problem' && /different configs/.test(String(l.problem)),
    );
    const split = await runBo(['--config', c.cfg(1), 'status'], { env });
    expect(split.stdout).toMatch(
      /problem: cluster nodes run different configs: node1 has \w+, node3 has \w+/,
    );
    expect(split.stdout).toMatch(/cluster: 3 of 3 nodes up/);

    nodes[2]!.child.kill('SIGKILL');
    await nodes[2]!.exited;
    await nodes[0]!.waitFor(
      (l) => l.msg === 'Cluster problem' && /node3 is dead/.test(String(l.problem)),
      30_000,
    );
    for (const i of [1, 2]) {
      const s = await runBo(['--config', c.cfg(i), 'status'], { env });
      expect(s.stdout).toMatch(/problem: cluster node node3 is dead: last heartbeat/);
      expect(s.stdout).toMatch(/node3\s+DEAD/);
      expect(s.code).toBe(1);
    }
    // The page of every live node shows the cluster, the dead node included.
    for (const n of nodes.slice(0, 2)) {
      const { url } = (await n.waitFor((l) => l.msg === 'HTTP status page listening')) as { url: string };
      const page = await (await fetch(url)).text();
      expect(page).toMatch(/<h2>Cluster<\/h2>/);
      expect(page).toMatch(/DEAD<\/span><span class="host">node3/);
      expect(page).toMatch(/cluster node node3 is dead/);
    }
    // One alert arrives (its delivery may lag on a busy machine); a few seconds on, still one.
    const alerted = () => received.some((a) => a.check === 'cluster-node');
    expect(await until(alerted, 30_000, 100)).toBe(true);
    await new Promise((r) => setTimeout(r, 4000));
    const dead = received.filter((a) => a.check === 'cluster-node');
    expect(dead).toEqual([expect.objectContaining({ subject: 'node3', to: 'crit' })]);
    hook.close();
  }, 120_000);
});
