import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStateDb } from '../../../src/catalog/db.ts';
import { currentOwner, finishRun, insertRun } from '../../../src/catalog/runs.ts';
import { lastCommittedBackup } from '../../../src/jobs/run-history.ts';

describe('lastCommittedBackup (prune guard evidence from the run history)', () => {
  it('finds the newest successful backup run of a job, ignoring failures and other kinds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bo-runs-'));
    const db = openStateDb(dir);
    try {
      expect(lastCommittedBackup(db, 'files')).toBeUndefined();
      const run = (id: string, kind: string, at: string, outcome: 'ok' | 'failed', backupId?: string) => {
        insertRun(
          db,
          { id, job: 'files', kind, trigger: 'manual', attempt: 1, queuedAt: at, startedAt: at },
          currentOwner(),
        );
        finishRun(db, id, { finishedAt: at, outcome, backupId });
      };
      run('r1', 'backup', '2026-06-01T02:00:00.000Z', 'ok', 'b1');
      run('r2', 'backup', '2026-06-02T02:00:00.000Z', 'ok', 'b2');
      run('r3', 'backup', '2026-06-03T02:00:00.000Z', 'failed');
      run('r4', 'verify', '2026-06-04T02:00:00.000Z', 'ok', 'b9');
      expect(lastCommittedBackup(db, 'files')).toEqual({ id: 'b2', at: '2026-06-02T02:00:00.000Z' });
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
