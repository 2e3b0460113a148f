import { DatabaseSync } from 'node:sqlite';
import { beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/catalog/db.ts';
import { migrations } from '../../../src/catalog/migrations.ts';
import {
  abandonRuns,
  currentOwner,
  finishRun,
  getRun,
  insertRun,
  jobsFirstSeen,
  latestFinished,
  listRuns,
  ownerAlive,
  processStart,
  pruneRuns,
  type RunRecord,
  recordRunStarted,
  unfinishedRuns,
} from '../../../src/catalog/runs.ts';

const owner = { pid: 4242, boot: 'boot-a' };
let db: DatabaseSync;

function run(id: string, job: string, at: string, outcome?: RunRecord['outcome']): void {
  const r: RunRecord = {
    id,
    job,
    kind: 'backup',
    host: 'h',
    trigger: 'schedule',
    attempt: 1,
    scheduledAt: at,
    queuedAt: at,
  };
  insertRun(db, r, owner);
  recordRunStarted(db, { ...r, startedAt: at }, owner);
  if (outcome)
    finishRun(db, id, {
      finishedAt: at,
      outcome,
      ...(outcome === 'ok' ? { bytes: 5, backupId: `b-${id}` } : { error: 'boom' }),
    });
}

beforeEach(() => {
  db = new DatabaseSync(':memory:');
  migrate(db, migrations);
});

describe('run history', () => {
  it('records a run through queued, started and finished', () => {
    run('r1', 'j', '2026-01-01T02:00:00.000Z', 'ok');
    expect(getRun(db, 'r1')).toEqual({
      id: 'r1',
      job: 'j',
      kind: 'backup',
      host: 'h',
      trigger: 'schedule',
      attempt: 1,
      scheduledAt: '2026-01-01T02:00:00.000Z',
      queuedAt: '2026-01-01T02:00:00.000Z',
      startedAt: '2026-01-01T02:00:00.000Z',
      finishedAt: '2026-01-01T02:00:00.000Z',
      outcome: 'ok',
      bytes: 5,
      files: undefined,
      backupId: 'b-r1',
      error: undefined,
      summary: undefined,
    });
  });

  it('records the start of a run that was never queued (the CLI) as of a queued one (the daemon)', () => {
    const at = '2026-01-01T02:00:00.000Z';
    recordRunStarted(
      db,
      { id: 'c1', job: 'j', kind: 'prune', trigger: 'manual', attempt: 1, queuedAt: at, startedAt: at },
      owner,
    );
    expect(getRun(db, 'c1')).toMatchObject({
      trigger: 'manual',
      queuedAt: at,
      startedAt: at,
      outcome: undefined,
    });
    expect(unfinishedRuns(db).map((r) => [r.id, r.owner.pid])).toEqual([['c1', 4242]]);
  });

  it('finds the newest finished and the newest successful run per job', () => {
    run('a1', 'a', '2026-01-01T02:00:00.000Z', 'ok');
    run('a2', 'a', '2026-01-02T02:00:00.000Z', 'failed');
    run('a3', 'a', '2026-01-03T02:00:00.000Z');
    run('b1', 'b', '2026-01-01T02:00:00.000Z', 'cancelled');
    expect([...latestFinished(db)].map(([j, r]) => [j, r.id])).toEqual([
      ['a', 'a2'],
      ['b', 'b1'],
    ]);
    expect([...latestFinished(db, { ok: true })].map(([j, r]) => [j, r.id])).toEqual([['a', 'a1']]);
    expect(listRuns(db, { job: 'a' }).map((r) => r.id)).toEqual(['a3', 'a2', 'a1']);
  });

  it('marks runs of dead owners abandoned and leaves live ones alone', () => {
    run('dead', 'a', '2026-01-01T02:00:00.000Z');
    insertRun(
      db,
      {
        id: 'live',
        job: 'b',
        kind: 'backup',
        trigger: 'manual',
        attempt: 1,
        queuedAt: '2026-01-01T02:00:00.000Z',
      },
      { pid: 1, boot: 'boot-b' },
    );
    const abandoned = abandonRuns(db, '2026-01-01T03:00:00.000Z', (o) => o.boot === 'boot-b');
    expect(abandoned.map((r) => r.id)).toEqual(['dead']);
    expect(getRun(db, 'dead')).toMatchObject({
      outcome: 'abandoned',
      finishedAt: '2026-01-01T03:00:00.000Z',
    });
    expect(getRun(db, 'live')?.outcome).toBeUndefined();
  });

  it('decides owner liveness by boot id, own pid and process existence', () => {
    const self = currentOwner();
    expect(ownerAlive({ pid: process.ppid, boot: self.boot }, self)).toBe(true);
    expect(ownerAlive({ pid: process.ppid, boot: 'another-boot' }, self)).toBe(false);
    expect(ownerAlive({ pid: self.pid, boot: self.boot }, self)).toBe(false);
    expect(ownerAlive({ pid: 2 ** 22 + 7, boot: self.boot }, self)).toBe(false);
  });

  it('does not take a reused pid for the owner: the process start time must match too', () => {
    const self = currentOwner();
    const parentStart = processStart(process.ppid);
    expect(parentStart).toMatch(/^\d+$/);
    expect(self.start).toBe(processStart(process.pid));
    expect(ownerAlive({ pid: process.ppid, boot: self.boot, start: parentStart }, self)).toBe(true);
    // the pid is alive, but it is another process than the one that wrote the row
    expect(ownerAlive({ pid: process.ppid, boot: self.boot, start: '1' }, self)).toBe(false);
    // rows written before start times were kept: the pid alone decides
    expect(ownerAlive({ pid: process.ppid, boot: self.boot, start: undefined }, self)).toBe(true);
  });

  it('keeps the owner start time with unfinished rows', () => {
    insertRun(
      db,
      {
        id: 'u',
        job: 'j',
        kind: 'backup',
        trigger: 'manual',
        attempt: 1,
        queuedAt: '2026-01-01T02:00:00.000Z',
      },
      { pid: 77, boot: 'b', start: '12345' },
    );
    expect(unfinishedRuns(db)[0]?.owner).toEqual({ pid: 77, boot: 'b', start: '12345' });
  });

  it('bounds the history by age and per-job count but keeps the newest success', () => {
    run('old-ok', 'a', '2025-01-01T00:00:00.000Z', 'ok');
    for (let i = 1; i <= 5; i++) run(`f${i}`, 'a', `2026-01-0${i}T00:00:00.000Z`, 'failed');
    run('b-old', 'b', '2025-06-01T00:00:00.000Z', 'failed');
    run('b-ok', 'b', '2025-06-02T00:00:00.000Z', 'ok');
    run('b-running', 'b', '2025-06-03T00:00:00.000Z');
    const removed = pruneRuns(db, { before: '2025-12-01T00:00:00.000Z', perJob: 3 });
    expect(listRuns(db, { job: 'a' }).map((r) => r.id)).toEqual(['f5', 'f4', 'f3', 'old-ok']);
    expect(listRuns(db, { job: 'b' }).map((r) => r.id)).toEqual(['b-running', 'b-ok']);
    expect(removed).toBe(3);
  });

  it('remembers when each job was first seen', () => {
    expect([...jobsFirstSeen(db, ['a'], '2026-01-01T00:00:00.000Z')]).toEqual([
      ['a', '2026-01-01T00:00:00.000Z'],
    ]);
    expect([...jobsFirstSeen(db, ['a', 'b'], '2026-02-01T00:00:00.000Z')]).toEqual([
      ['a', '2026-01-01T00:00:00.000Z'],
      ['b', '2026-02-01T00:00:00.000Z'],
    ]);
  });
});
