/**
 * `bo cluster migrate`: a single daemon's SQLite history and incremental state move into the
 * cluster's PostgreSQL; the cluster then knows the earlier runs and continues the job's chain.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runBo } from '../../fixtures/bo.ts';
import { cleanUp, clusterEnv, coordination, manifests } from './cluster-env.ts';

afterEach(cleanUp);

describe('bo cluster migrate', () => {
  it('moves the run history and the chain state of a single daemon into the cluster', async () => {
    const c = await clusterEnv();
    if (!c) return;
    const src = join(c.dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    const base = {
      storage: { repo: { type: 'filesystem', path: c.repo } },
      jobs: { files: { host: 'local', paths: [src], storage: 'repo' } },
    };
    c.write({ ...base, coordination: coordination() }, 1);
    // The single daemon's life: its own config (no coordination), the same stateDir.
    const single = join(c.dir, 'single.yaml');
    writeFileSync(single, stringify({ ...base, stateDir: join(c.dir, 'node1', 'state') }));
    for (let i = 0; i < 2; i++) {
      writeFileSync(join(src, `f${i}.txt`), `file ${i}\n`);
      const r = await runBo(['--config', single, 'backup', 'now', 'files']);
      expect(r.code, r.stderr).toBe(0);
    }
    const env = { BO_PG_URL: c.url };
    const m = await runBo(['--config', c.cfg(1), 'cluster', 'migrate', '--json'], { env });
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ runs: 2, skipped: 0, unfinished: 0, chains: ['files'] });
    const again = await runBo(['--config', c.cfg(1), 'cluster', 'migrate', '--json'], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ runs: 0, skipped: 2 });
    expect(c.runs().map((r) => r.outcome)).toEqual(['ok', 'ok']);

    // A cluster node on another machine (another stateDir) continues the chain.
    c.write({ ...base, coordination: coordination() }, 2);
    const node = await c.start(2);
    const status = JSON.parse((await runBo(['--config', c.cfg(2), 'status', '--json'], { env })).stdout) as {
      jobs: Array<{ job: string; lastSuccess?: { backupId: string } }>;
    };
    // The single daemon's full, then its incremental: by chain level, not by id (two backups in
    // the same second have ids that sort by their random suffix).
    const before = manifests(c.repo, 'files')
      .sort((x, y) => x.chain.level - y.chain.level)
      .map((x) => x.id);
    expect(status.jobs[0]!.lastSuccess?.backupId).toBe(before[1]);
    writeFileSync(join(src, 'f2.txt'), 'file 2\n');
    const b = await runBo(['--config', c.cfg(2), 'backup', 'now', 'files'], { env });
    expect(b.code, b.stderr + b.stdout).toBe(0);
    const after = manifests(c.repo, 'files');
    const newest = after.find((x) => !before.includes(x.id))!;
    expect(newest.chain).toMatchObject({ type: 'incremental', level: 2, parent: before[1] });
    node.child.kill('SIGTERM');
    await node.exited;
  }, 120_000);
});
