/**
 * Copy lag, seen everywhere it is shown: a copy that failed after a backup shows as lag in the
 * health report's backup status (listed from the storages) and in `bo status` (from the state
 * database), the backup-freshness check alerts once it is overdue, and a `bo copy` clears it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { offlineStatus } from '../../../src/cli/commands/status.ts';
import { StorageError } from '../../../src/errors.ts';
import { collectBackupStatus } from '../../../src/health/backups.ts';
import { judge } from '../../../src/health/checks/backup-freshness.ts';
import { copyJob } from '../../../src/jobs/copy.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import { silentLogger } from '../../../src/log.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { wrapStorage } from './backup-env.ts';
import { type CopyEnv, copyEnv } from './copy-env.ts';

const HOUR = 3_600_000;
const log = silentLogger();
const signal = new AbortController().signal;

describe.skipIf(s3Missing())('copy lag', () => {
  let env: CopyEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('shows in the health status and bo status, alerts when overdue, and clears after bo copy', async () => {
    env = await copyEnv({
      jobs: { files: { copies: [{ storage: 'nas', maxLag: '1h' }] } },
    });
    // The copy to nas fails: the backup is committed all the same.
    const broken = env.servicesWith((s) =>
      s.name === 'nas'
        ? wrapStorage(s, {
            put: async () => {
              throw new StorageError('disk unplugged');
            },
          })
        : s,
    );
    env.clock.offset = -3 * HOUR;
    const r = await runJob('files', env.config.jobs.files!, { services: broken, log, signal, runId: 'r1' });
    env.clock.offset = 0;
    expect(r.summary).toMatch(/copy to nas FAILED: disk unplugged/);

    const now = new Date();
    const health = async () =>
      (
        await collectBackupStatus(env!.config, ['files'], {
          storage: (n) => env!.services.storage(n),
          log,
          signal,
          now,
        })
      )[0]!;
    const lagging = await health();
    expect(lagging.copies).toEqual([
      expect.objectContaining({ storage: 'nas', missing: 1, maxLag: HOUR, oldestMissing: expect.anything() }),
    ]);
    expect(lagging.copies![0]!.lagMs).toBeGreaterThan(2.9 * HOUR);
    const alert = judge(lagging, { check: 'backup-freshness', maxAge: 24 * HOUR }, now);
    expect(alert.status).toBe('crit'); // 3h behind, more than twice its maxLag
    expect(alert.message).toMatch(
      /copy nas 3h.* behind \(1 backup to copy\): overdue .*`bo copy files --to nas`/,
    );

    const status = offlineStatus(env.config, now);
    const files = status.jobs.find((j) => j.job === 'files')!;
    // The failed copy could not even take its lock there: behind since then, at least.
    expect(files.copies).toEqual([expect.objectContaining({ storage: 'nas', overdue: true })]);
    expect(status.problems.join('\n')).toMatch(
      /files: copy nas: 3h.* behind, OVERDUE; last copy FAILED: .*disk unplugged/,
    );

    const job = env.config.jobs.files as Parameters<typeof copyJob>[2];
    const caught = await copyJob(env.services, 'files', job, 'nas', { signal, log });
    expect(caught.copied).toHaveLength(1);
    const fine = await health();
    expect(fine.copies).toEqual([expect.objectContaining({ storage: 'nas', missing: 0, lagMs: 0 })]);
    expect(judge(fine, { check: 'backup-freshness', maxAge: 24 * HOUR }, now)).toMatchObject({
      status: 'ok',
    });
    const after = offlineStatus(env.config, new Date());
    expect(after.jobs.find((j) => j.job === 'files')!.copies).toEqual([
      expect.objectContaining({ storage: 'nas', lagMs: 0, overdue: false }),
    ]);
    expect(after.problems.filter((p) => p.includes('copy'))).toEqual([]);
  });
});
