import { DatabaseSync } from 'node:sqlite';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CheckRecord, latestChecks, recordCheck } from '../../../src/catalog/checks.ts';
import { migrate } from '../../../src/catalog/db.ts';
import { migrations } from '../../../src/catalog/migrations.ts';

let db: DatabaseSync;
beforeEach(() => {
  db = new DatabaseSync(':memory:');
  migrate(db, migrations);
});

function check(
  backupId: string,
  finishedAt: string,
  outcome: CheckRecord['outcome'],
  over: Partial<CheckRecord> = {},
): void {
  recordCheck(db, {
    kind: 'verify',
    storage: 'repo',
    job: 'files',
    backupId,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 1,
    outcome,
    ...over,
  });
}

describe('latestChecks', () => {
  it('gives each backup its latest verify or drill: a later failure overrides an earlier success', () => {
    check('b1', '2026-06-01T00:00:00Z', 'ok');
    check('b1', '2026-06-02T00:00:00Z', 'failed');
    check('b2', '2026-06-01T00:00:00Z', 'failed');
    check('b2', '2026-06-03T00:00:00Z', 'ok', { kind: 'drill' });
    check('b3', '2026-06-04T00:00:00Z', 'ok');
    check('b3', '2026-06-04T00:00:00Z', 'failed'); // same time: the later record wins
    check('b4', '2026-06-05T00:00:00Z', 'ok', { storage: 'other' });
    check('b5', '2026-06-05T00:00:00Z', 'ok', { job: 'other' });
    expect(Object.fromEntries(latestChecks(db, 'repo', 'files'))).toEqual({
      b1: { kind: 'verify', outcome: 'failed', finishedAt: '2026-06-02T00:00:00Z' },
      b2: { kind: 'drill', outcome: 'ok', finishedAt: '2026-06-03T00:00:00Z' },
      b3: { kind: 'verify', outcome: 'failed', finishedAt: '2026-06-04T00:00:00Z' },
    });
    expect(latestChecks(db, 'repo', 'none').size).toBe(0);
  });
});
