/**
 * The manifest write is the commit point, and its outcome can be unknown to bo: the write was
 * carried out, but bo saw an error (a 500 answer, a timeout, a cancel while it was in flight, a
 * filesystem rename followed by a failing directory fsync). Such a run must end committed (the
 * manifest read back is the one sent) or with the manifest removed before its archive and index:
 * never a listed backup whose archive the failed run deleted.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { listJobBackups } from '../../../src/catalog/catalog.ts';
import { resolveBackup } from '../../../src/catalog/resolve.ts';
import type { BackupJob } from '../../../src/config/schema.ts';
import { StorageError } from '../../../src/errors.ts';
import { runBackup } from '../../../src/jobs/backup.ts';
import type { JobRunResult } from '../../../src/jobs/kinds.ts';
import { verifyBackups } from '../../../src/jobs/verify-run.ts';
import { silentLogger } from '../../../src/log.ts';
import type { Services } from '../../../src/services.ts';
import { createS3Storage } from '../../../src/storage/s3.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { type Fault, type SeenRequest, startFaultProxy } from '../storage/fault-proxy.ts';
import { allKeys, type BackupEnv, backupEnv, wrapStorage } from './backup-env.ts';

const isManifest = (key: string) => key.endsWith('/manifest.json');

async function backupWith(
  env: BackupEnv,
  services: Services,
  signal = new AbortController().signal,
): Promise<JobRunResult | Error> {
  const job = env.config.jobs.files as BackupJob;
  const ctx = { services, log: silentLogger(), signal, runId: `test-${randomBytes(4).toString('hex')}` };
  return await runBackup('files', job, ctx).catch((err: unknown) => err as Error);
}

/** The failed run left nothing: every key is one of the good backup's, and it is still `latest`. */
async function expectOnly(env: BackupEnv, good: string, services: Services = env.services) {
  const keys = await allKeys(env.storage, 'files/');
  expect(keys.filter((k) => !k.startsWith(`files/${good}/`))).toEqual([]);
  const { backups } = await listJobBackups(env.storage, 'files', { full: true });
  expect(backups.map((b) => b.id)).toEqual([good]);
  expect((await resolveBackup(services, 'files', 'latest')).ref.id).toBe(good);
}

/** The run committed: its backup is listed, is `latest`, and verifies in full. */
async function expectCommitted(env: BackupEnv, r: JobRunResult | Error) {
  expect(r).not.toBeInstanceOf(Error);
  const id = (r as JobRunResult).backupId!;
  expect((await resolveBackup(env.services, 'files', 'latest')).ref.id).toBe(id);
  const [outcome] = await verifyBackups(env.services, `files/${id}`, undefined, {
    signal: new AbortController().signal,
    log: silentLogger(),
  });
  expect(outcome).toMatchObject({ status: 'ok', depth: 'full' });
}

describe('an ambiguous manifest write on a filesystem repository', () => {
  let env: BackupEnv;
  afterEach(async () => env?.cleanup());

  /** The rename into place happened, then the directory fsync failed: put rejects, the file is there. */
  const renamedThenFailed = (s: Storage, deletes: string[], over: Partial<Storage> = {}) =>
    wrapStorage(s, {
      async put(key, body, opts) {
        const r = await s.put(key, body, opts);
        if (isManifest(key))
          throw new StorageError(`filesystem error on ${key}: EIO (fsync of the directory)`);
        return r;
      },
      async delete(key) {
        if (key.startsWith('files/')) deletes.push(key);
        await s.delete(key);
      },
      ...over,
    });

  it('reads the manifest back: the one it sent is there, so the backup is committed', async () => {
    env = await backupEnv('fs');
    await env.backup();
    const r = await backupWith(env, env.servicesWith({ wrap: (s) => renamedThenFailed(s, []) }));
    await expectCommitted(env, r);
  });

  it('cannot read it back: removes the manifest first, then the archive and index; latest stays the good one', async () => {
    env = await backupEnv('fs');
    const good = await env.backup();
    const deletes: string[] = [];
    const services = env.servicesWith({
      wrap: (s) =>
        renamedThenFailed(s, deletes, {
          get: async (key, opts) => {
            if (isManifest(key) && !key.includes(good)) throw new StorageError(`cannot read ${key}: EIO`);
            return s.get(key, opts);
          },
        }),
    });
    const r = await backupWith(env, services);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toMatch(/manifest/);
    expect(deletes[0]).toMatch(/\/manifest\.json$/);
    expect(deletes.slice(1).join(' ')).toMatch(/archive\.tar\.zst.*index/);
    await expectOnly(env, good);
  });

  it('cannot read it back nor remove it: keeps the archive and index, so whatever is listed restores', async () => {
    env = await backupEnv('fs');
    await env.backup();
    const services = env.servicesWith({
      wrap: (s) =>
        renamedThenFailed(s, [], {
          get: async (key, opts) => {
            if (isManifest(key)) throw new StorageError(`cannot read ${key}: EIO`);
            return s.get(key, opts);
          },
          delete: async (key) => {
            if (isManifest(key)) throw new StorageError(`cannot remove ${key}: EIO`);
            await s.delete(key);
          },
        }),
    });
    const r = await backupWith(env, services);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toMatch(/could not be removed/);
    const { backups } = await listJobBackups(env.storage, 'files', { full: true });
    expect(backups).toHaveLength(2);
    const outcomes = await verifyBackups(env.services, 'files', undefined, {
      signal: new AbortController().signal,
      log: silentLogger(),
    });
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
  });
});

describe.skipIf(s3Missing())('an ambiguous manifest write to S3', () => {
  let env: BackupEnv;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await env?.cleanup();
  });

  /** Services whose storage goes through a fault proxy in front of the test bucket. */
  async function viaProxy(fault: (r: SeenRequest) => Fault | undefined) {
    const proxy = await startFaultProxy(env.bucket!.endpoint, fault);
    const storage = createS3Storage(
      'repo',
      { ...env.bucket!.parsed, prefix: 'bo/', endpoint: proxy.endpoint },
      { log: silentLogger() },
      { retryDelayMs: 1 },
    );
    closers.push(async () => {
      await storage.close();
      await proxy.close();
    });
    return { proxy, services: env.servicesWith({ wrap: () => storage }) };
  }
  const manifestReq = (r: SeenRequest, method: string) => r.method === method && isManifest(r.path);

  it('a PutObject stored but answered 500: read back, identical, so the backup is committed', async () => {
    env = await backupEnv('s3');
    await env.backup();
    const { proxy, services } = await viaProxy((r) => (manifestReq(r, 'PUT') ? { status: 500 } : undefined));
    const r = await backupWith(env, services);
    expect(proxy.seen.filter((q) => manifestReq(q, 'PUT')).length).toBeGreaterThan(0);
    await expectCommitted(env, r);
  });

  it('a PutObject stored but answered 500 and the read-back failing: manifest removed first, the run failed, latest unchanged', async () => {
    env = await backupEnv('s3');
    const good = await env.backup();
    const { proxy, services } = await viaProxy((r) =>
      manifestReq(r, 'PUT') || (manifestReq(r, 'GET') && !r.path.includes(good))
        ? { status: 500 }
        : undefined,
    );
    const r = await backupWith(env, services);
    expect(r).toBeInstanceOf(Error);
    const deleted = proxy.seen
      .filter((q) => q.method === 'DELETE' && q.path.includes('/bo/files/'))
      .map((q) => q.path);
    expect(deleted[0]).toMatch(/\/manifest\.json$/);
    expect(deleted.slice(1).join(' ')).toMatch(/archive\.tar\.zst/);
    await expectOnly(env, good);
  });

  it('cancelled while the manifest PutObject is in flight: the write may finish, and the backup is committed whole', async () => {
    env = await backupEnv('s3');
    const good = await env.backup();
    const ac = new AbortController();
    const { services } = await viaProxy((r) =>
      manifestReq(r, 'PUT')
        ? {
            // The server has stored it; the answer is late, and bo is cancelled meanwhile.
            hold: async () => {
              ac.abort(new Error('SIGTERM'));
              await new Promise((resolve) => setTimeout(resolve, 300));
            },
          }
        : undefined,
    );
    const r = await backupWith(env, services, ac.signal);
    expect(ac.signal.aborted).toBe(true);
    // Before, the archive and index were removed and the stored manifest stayed, listed as latest.
    await expectCommitted(env, r);
    const { backups } = await listJobBackups(env.storage, 'files', { full: true });
    expect(backups.map((b) => b.id)).toEqual([good, (r as JobRunResult).backupId]);
  });
});
