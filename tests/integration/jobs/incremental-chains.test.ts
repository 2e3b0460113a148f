/**
 * Real incremental chains (made by the real backup job) when something goes wrong: a prune that
 * would orphan a chain, a missing middle incremental, a corrupted parent, lost local state,
 * another machine running the job, and an interrupted incremental followed by a normal run. Each
 * ends with a full that says why, or a chain that still restores exactly.
 */
import { rmSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SNAR_MARGIN_S } from '../../../src/archive/snar.ts';
import { type BackupRef, listBackups } from '../../../src/catalog/backups.ts';
import { readBackupIndex } from '../../../src/catalog/chain-index.ts';
import type { BackupJob } from '../../../src/config/schema.ts';
import { CancelledError } from '../../../src/errors.ts';
import { drillBackup } from '../../../src/jobs/drill.ts';
import { pruneJobs } from '../../../src/jobs/prune.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import { restoreBackup } from '../../../src/jobs/restore.ts';
import { verifyBackups } from '../../../src/jobs/verify-run.ts';
import { silentLogger } from '../../../src/log.ts';
import { objectKey } from '../../../src/storage/layout.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { type BackupEnv, backupEnv, wrapStorage } from './backup-env.ts';

const log = silentLogger();
const envs: BackupEnv[] = [];
afterEach(async () => {
  for (const e of envs.splice(0)) await e.cleanup();
});

async function chainEnv(kind: 'fs' | 's3' = 'fs'): Promise<BackupEnv> {
  const e = await backupEnv(kind, {
    jobs: { files: { incremental: { fullEvery: 100 }, retention: { last: 1 } } },
  });
  envs.push(e);
  return e;
}

async function listed(e: BackupEnv): Promise<BackupRef[]> {
  return (await listBackups(e.storage, { job: 'files' })).backups;
}

/** A backup with `full` asked for, or cancelled through `signal`; returns the run's result. */
function run(
  e: BackupEnv,
  o: { full?: boolean; signal?: AbortSignal; services?: BackupEnv['services'] } = {},
) {
  return runJob('files', e.config.jobs.files!, {
    services: o.services ?? e.services,
    log,
    signal: o.signal ?? new AbortController().signal,
    runId: `t-${Math.random().toString(36).slice(2)}`,
    full: o.full,
  });
}

async function restoreTo(e: BackupEnv, ref: BackupRef, dir: string) {
  return restoreBackup({
    storage: e.storage,
    ref,
    target: { kind: 'local', dir },
    signal: new AbortController().signal,
    log,
  });
}

describe.each(['fs', 's3'] as const)('incremental chains in %s storage', (kind) => {
  it.skipIf(kind === 's3' && s3Missing())(
    'a prune never orphans a chain: the newest incremental keeps its whole chain',
    async () => {
      const e = await chainEnv(kind);
      await e.backup();
      await appendFile(join(e.src, 'a.txt'), 'more\n');
      await e.backup();
      await writeFile(join(e.src, 'new.txt'), 'new\n');
      await e.backup();
      const before = await listed(e);
      expect(before.map((b) => b.manifest.chain?.type)).toEqual(['full', 'incremental', 'incremental']);
      const [report] = await pruneJobs(e.services, ['files'], { signal: new AbortController().signal, log });
      expect(report!.error).toBeUndefined();
      expect((await listed(e)).map((b) => b.id)).toEqual(before.map((b) => b.id));
      // A new full frees the old chain.
      await run(e, { full: true });
      await pruneJobs(e.services, ['files'], { signal: new AbortController().signal, log });
      const after = await listed(e);
      expect(after.map((b) => b.manifest.chain?.type)).toEqual(['full']);
      const dir = join(e.work, 'r');
      await restoreTo(e, after[0]!, dir);
      expect(diffTrees(await snapshotTree(e.src), await snapshotTree(join(dir, e.src)))).toEqual([]);
    },
  );
});

describe('incremental chains when something goes wrong', () => {
  it('a missing middle incremental: the later ones say which backup is missing; the next backup is a full saying why', async () => {
    const e = await chainEnv();
    const ids = [await e.backup()];
    for (let i = 0; i < 3; i++) {
      await writeFile(join(e.src, `f${i}`), `file ${i}`);
      ids.push(await e.backup());
    }
    // Backups made within a second list in any order: go by the ids as they were made.
    const byId = async (id: string) => (await listed(e)).find((b) => b.id === id)!;
    const middle = { id: ids[2]! };
    rmSync(join(e.work, 'repo/files', middle.id), { recursive: true });
    const last = await byId(ids[3]!);
    await expect(readBackupIndex(e.storage, last, undefined)).rejects.toThrow(
      new RegExp(`parent ${middle.id} is missing: it cannot be restored`),
    );
    await expect(restoreTo(e, last, join(e.work, 'r1'))).rejects.toThrow(/is missing/);
    // Older points still restore.
    await restoreTo(e, await byId(ids[1]!), join(e.work, 'r2'));
    const r = await run(e);
    expect(r.note).toMatch(new RegExp(`^full: .*parent ${middle.id} is missing`));
    const drill = await drillBackup(e.storage, last, {
      target: { kind: 'local', parent: join(e.work, 'drills') },
      signal: new AbortController().signal,
      log,
    });
    expect(drill.status).toBe('failed');
    expect(drill.problems.join('\n')).toMatch(/is missing/);
  });

  it('a corrupted parent fails verify, a drill of the newest names it, and the next backup is a full', async () => {
    const e = await chainEnv();
    // Older than the snapshot file's margin, so the files stay in the full (and a drill reads it).
    await new Promise((r) => setTimeout(r, (SNAR_MARGIN_S + 0.5) * 1000));
    const ids = [await e.backup()];
    await writeFile(join(e.src, 'x'), 'x');
    ids.push(await e.backup());
    await writeFile(join(e.src, 'y'), 'y');
    ids.push(await e.backup());
    const refs = await listed(e);
    const [full, newest] = [ids[0], ids[2]].map((id) => refs.find((b) => b.id === id));
    const archive = join(
      e.work,
      'repo',
      objectKey({ job: 'files', id: full!.id }, full!.manifest.archive.key),
    );
    const bytes = Buffer.from(await import('node:fs/promises').then((f) => f.readFile(archive)));
    bytes[bytes.length >> 1]! ^= 0xff;
    await writeFile(archive, bytes);
    const v = await verifyBackups(e.services, undefined, ['files'], {
      signal: new AbortController().signal,
      log,
    });
    expect(v.filter((x) => x.status !== 'ok').map((x) => x.id)).toContain(full!.id);
    const drill = await drillBackup(e.storage, newest!, {
      target: { kind: 'local', parent: join(e.work, 'drills') },
      signal: new AbortController().signal,
      log,
    });
    expect(drill.status).toBe('failed');
    const r = await run(e);
    expect(r.note).toMatch(
      new RegExp(`^full: backup ${full!.id} in the chain failed its last verify or drill`),
    );
  });

  it('lost local state: the next backup is a full saying so; the chain before it still restores', async () => {
    const e = await chainEnv();
    await e.backup();
    await writeFile(join(e.src, 'x'), 'x');
    expect((await run(e)).note).toBe('incremental, level 1');
    rmSync(join(e.work, 'state/incremental'), { recursive: true });
    const r = await run(e);
    expect(r.note).toMatch(/^full: no incremental state on this machine/);
  });

  it('another machine ran the job: this one makes a full instead of continuing from its own older state', async () => {
    const e = await chainEnv();
    await e.backup();
    // The other machine: same storage, its own state directory.
    const other = { ...e.config, stateDir: join(e.work, 'state-b') };
    const servicesB = { ...e.servicesWith({}), config: other };
    const b = await runJob('files', other.jobs.files!, {
      services: servicesB,
      log,
      signal: new AbortController().signal,
      runId: 'other',
    });
    expect(b.note).toMatch(/^full: no incremental state on this machine/);
    const a = await run(e);
    expect(a.note).toMatch(
      new RegExp(
        `^full: this machine's incremental state is for backup .*, but the newest backup is ${b.backupId}`,
      ),
    );
  });

  it('an interrupted incremental leaves the state valid: the next run continues the chain and restores exactly', async () => {
    const e = await chainEnv();
    await e.backup();
    await writeFile(join(e.src, 'before-cancel'), 'kept');
    const ac = new AbortController();
    const services = e.servicesWith({
      wrap: (s) =>
        wrapStorage(s, {
          put: (key, body, opts) => {
            if (key.includes('/archive.')) ac.abort(new CancelledError('test cancels mid-upload'));
            return s.put(key, body, opts);
          },
        }),
    });
    await expect(run(e, { signal: ac.signal, services })).rejects.toThrow(/cancelled/);
    expect((await listed(e)).length).toBe(1);
    await writeFile(join(e.src, 'after-cancel'), 'also kept');
    const r = await run(e);
    expect(r.note).toBe('incremental, level 1');
    const refs = await listed(e);
    const dir = join(e.work, 'r');
    await restoreTo(e, refs.at(-1)!, dir);
    expect(diffTrees(await snapshotTree(e.src), await snapshotTree(join(dir, e.src)))).toEqual([]);
  });

  it.skipIf(s3Missing())(
    'Object Lock covers the chain: the full stays locked as long as its newest incremental',
    async () => {
      const e = await backupEnv('s3', {
        objectLock: { mode: 'GOVERNANCE', days: 1 },
        jobs: { files: { incremental: { fullEvery: 100 } } },
      });
      envs.push(e);
      const full = await e.backup();
      await writeFile(join(e.src, 'later'), 'x');
      // The incremental is written "an hour later": its lock ends an hour after the full's did.
      const inc = await e.backup('files', new Date(Date.now() + 3_600_000));
      const refs = await listed(e);
      const [f, i] = [full, inc].map((id) => refs.find((b) => b.id === id)!);
      expect(i!.manifest.chain).toMatchObject({ type: 'incremental', parent: full });
      const until = async (ref: BackupRef, name: string) =>
        (await e.storage.retention(objectKey(ref, name)))!.until.getTime();
      const incUntil = await until(i!, i!.manifest.archive.key);
      for (const name of ['manifest.json', f!.manifest.archive.key, f!.manifest.index.key])
        expect(await until(f!, name)).toBeGreaterThanOrEqual(incUntil);
    },
  );

  it('changed excludes start a new chain: a newly included file with an old mtime is not missed', async () => {
    const e = await chainEnv();
    await writeFile(join(e.src, 'skip.tmp'), 'was excluded');
    (e.config.jobs.files as BackupJob).exclude = ['*.tmp'];
    await e.backup();
    (e.config.jobs.files as BackupJob).exclude = [];
    const r = await run(e);
    expect(r.note).toMatch(/^full: the job changed since the newest backup/);
    const refs = await listed(e);
    const dir = join(e.work, 'r');
    await restoreTo(e, refs.find((b) => b.id === r.backupId)!, dir);
    expect(diffTrees(await snapshotTree(e.src), await snapshotTree(join(dir, e.src)))).toEqual([]);
  });

  it('--path takes each file from the backup that holds it, reading only that archive', async () => {
    const e = await chainEnv();
    await new Promise((r) => setTimeout(r, (SNAR_MARGIN_S + 0.5) * 1000));
    const ids = [await e.backup()];
    await writeFile(join(e.src, 'later.txt'), 'later');
    await new Promise((r) => setTimeout(r, (SNAR_MARGIN_S + 0.5) * 1000));
    ids.push(await e.backup());
    await writeFile(join(e.src, 'latest.txt'), 'latest');
    ids.push(await e.backup());
    const read: string[] = [];
    const services = e.servicesWith({
      wrap: (s) =>
        wrapStorage(s, {
          get: (key, opts) => {
            if (key.includes('/archive.')) read.push(key.split('/')[1]!);
            return s.get(key, opts);
          },
        }),
    });
    const storage = services.storage('repo');
    const ref = (await listBackups(storage, { job: 'files' })).backups.find((b) => b.id === ids[2])!;
    const dir = join(e.work, 'r');
    const r = await restoreBackup({
      storage,
      ref,
      target: { kind: 'local', dir },
      include: [join(e.src, 'later.txt')],
      signal: new AbortController().signal,
      log,
    });
    expect(r.files).toBe(1);
    // The newest archive's first blocks give the directories; the data comes from the middle one.
    expect(new Set(read)).toEqual(new Set([ids[1], ids[2]]));
    expect(read.filter((id) => id === ids[0])).toEqual([]);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(dir, e.src, 'later.txt'), 'utf8')).toBe('later');
  });
});
