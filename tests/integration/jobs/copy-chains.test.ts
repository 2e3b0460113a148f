/**
 * Copies of incremental chains, with real incrementals (GNU tar --listed-incremental) and real S3
 * servers: a copy never holds an incremental without its parents, an incremental restores from
 * its copy, and in a storage with Object Lock the copied chain stays locked as long as its newest
 * backup.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listJobBackups } from '../../../src/catalog/catalog.ts';
import { copyJob } from '../../../src/jobs/copy.ts';
import { restoreBackup } from '../../../src/jobs/restore.ts';
import { silentLogger } from '../../../src/log.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { diffTrees, type Recorded, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { type CopyEnv, copyEnv, type StorageName } from './copy-env.ts';

const DAY = 86_400_000;
const log = silentLogger();
const signal = new AbortController().signal;

describe.skipIf(s3Missing())('copies of incremental chains', () => {
  let env: CopyEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  /** A full and two incrementals, the tree recorded at each. */
  async function chain(e: CopyEnv): Promise<Array<{ id: string; tree: Map<string, Recorded> }>> {
    const points: Array<{ id: string; tree: Map<string, Recorded> }> = [];
    const take = async (daysAgo: number) => {
      const tree = await snapshotTree(e.src);
      const { id } = await e.backup('files', new Date(Date.now() - daysAgo * DAY));
      points.push({ id, tree });
    };
    await take(2);
    await writeFile(join(e.src, 'new.txt'), 'added after the full\n');
    await take(1);
    await rm(join(e.src, 'a.txt'));
    await writeFile(join(e.src, 'sub', 'later.txt'), 'added last\n');
    await take(0);
    return points;
  }

  const ids = async (s: StorageName) =>
    (await listJobBackups(env!.storage(s), 'files', { full: true })).backups.map((b) => b.id);

  it('copies an incremental with its parents first, and it restores from the copy exactly', async () => {
    env = await copyEnv({ jobs: { files: {} } });
    const points = await chain(env);
    const listed = (await listJobBackups(env.storage('fast'), 'files', { full: true })).backups;
    expect(listed.map((b) => b.manifest.chain?.type)).toEqual(['full', 'incremental', 'incremental']);
    const job = env.config.jobs.files as Parameters<typeof copyJob>[2];
    const middle = points[1]!;
    const r = await copyJob(env.services, 'files', job, 'cold', { only: [middle.id], signal, log });
    expect(r.copied.map((c) => c.id)).toEqual([points[0]!.id, middle.id]);
    expect(await ids('cold')).toEqual([points[0]!.id, middle.id]);
    const ref = (await listJobBackups(env.storage('cold'), 'files', { full: true })).backups.at(-1)!;
    const dest = join(env.work, 'restore-middle');
    await restoreBackup({
      storage: env.storage('cold'),
      ref,
      target: { kind: 'local', dir: dest },
      signal,
      log,
    });
    expect(diffTrees(middle.tree, await snapshotTree(join(dest, env.src)))).toEqual([]);
    // A retention that keeps only the newest still brings its whole chain.
    const nasJob = { ...job, copies: [{ storage: 'nas', retention: { last: 1 } }] };
    const all = await copyJob(env.services, 'files', nasJob, 'nas', { signal, log });
    expect(all.copied.map((c) => c.id)).toEqual(points.map((p) => p.id));
  });

  it('keeps a copied chain locked as long as its newest backup in a storage with Object Lock', async () => {
    env = await copyEnv({
      jobs: { files: {} },
      storage: { near: { objectLock: { mode: 'GOVERNANCE', days: 1 } } },
      objectLock: ['near'],
    });
    const points = await chain(env);
    const job = env.config.jobs.files as Parameters<typeof copyJob>[2];
    const r = await copyJob(env.services, 'files', job, 'near', { signal, log });
    expect(r.copied.map((c) => c.id)).toEqual(points.map((p) => p.id));
    const until = async (id: string, name: string) =>
      (await env!.storage('near').retention(`files/${id}/${name}`))!.until.getTime();
    const newest = await until(points[2]!.id, 'manifest.json');
    for (const p of points.slice(0, 2))
      for (const name of ['manifest.json', 'archive.tar.zst', 'index.jsonl.zst'])
        expect(await until(p.id, name)).toBeGreaterThanOrEqual(newest);
  });
});
