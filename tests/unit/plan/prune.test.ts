import { describe, expect, it } from 'vitest';
import { type PruneInput, planPrune } from '../../../src/plan/prune.ts';
import { type PruneBackup, pruneBackups } from '../../../src/plan/prune-backups.ts';
import { keysToDelete, planRows } from '../../../src/plan/prune-rows.ts';

const HOUR = 3_600_000;
const now = new Date('2026-06-10T12:00:00Z');

function backup(id: string, iso: string): PruneBackup {
  return {
    id,
    time: new Date(iso),
    names: ['manifest.json', 'archive.tar.zst', 'index.jsonl.zst'],
    bytes: 100,
  };
}

type Over = Partial<Omit<PruneInput, 'backups'>> & { backups?: PruneBackup[] };
const input = ({ backups, ...over }: Over = {}): PruneInput => ({
  job: 'job',
  now,
  policy: { last: 1, timezone: 'UTC' },
  garbageAgeMs: 24 * HOUR,
  backups: pruneBackups(
    backups ?? [
      backup('b1', '2026-06-08T00:00:00Z'),
      backup('b2', '2026-06-09T00:00:00Z'),
      backup('b3', '2026-06-10T00:00:00Z'),
    ],
  ),
  orphans: [],
  incomplete: [],
  ...over,
});

describe('planPrune', () => {
  it('turns retention decisions into backup rows with every key, manifest first', () => {
    const plan = planPrune(input());
    expect(planRows(plan).map((r) => [r.kind === 'backup' && r.id, r.action, r.reason])).toEqual([
      ['b3', 'keep', 'last #1'],
      ['b2', 'delete', 'no rule matched'],
      ['b1', 'delete', 'no rule matched'],
    ]);
    expect(plan.totals).toEqual({
      kept: 1,
      deleted: 2,
      locked: 0,
      garbage: 0,
      bytesFreed: 200,
      unrestorable: 0,
    });
    expect(keysToDelete(plan)).toEqual([
      'job/b2/manifest.json',
      'job/b2/archive.tar.zst',
      'job/b2/index.jsonl.zst',
      'job/b1/manifest.json',
      'job/b1/archive.tar.zst',
      'job/b1/index.jsonl.zst',
    ]);
    expect(plan.policy).toBe('last 1 (UTC)');
  });

  it('keeps the newest backup whose last check passed, and says why', () => {
    const checked = (b: PruneBackup, check: PruneBackup['check']): PruneBackup => ({ ...b, check });
    const plan = planPrune(
      input({
        backups: [
          checked(backup('b1', '2026-06-07T00:00:00Z'), { kind: 'verify', outcome: 'ok' }),
          checked(backup('b2', '2026-06-08T00:00:00Z'), { kind: 'verify', outcome: 'ok' }),
          backup('b3', '2026-06-09T00:00:00Z'),
          checked(backup('b4', '2026-06-10T00:00:00Z'), { kind: 'verify', outcome: 'failed' }),
        ],
      }),
    );
    expect(planRows(plan).map((r) => [r.kind === 'backup' && r.id, r.action, r.reason])).toEqual([
      ['b4', 'keep', 'last #1'],
      ['b3', 'delete', 'no rule matched'],
      ['b2', 'keep', 'newest verified backup (always kept)'],
      ['b1', 'delete', 'no rule matched'],
    ]);
    const drilled = planPrune(
      input({
        backups: [
          checked(backup('b1', '2026-06-08T00:00:00Z'), { kind: 'drill', outcome: 'ok' }),
          checked(backup('b2', '2026-06-09T00:00:00Z'), { kind: 'drill', outcome: 'failed' }),
          backup('b3', '2026-06-10T00:00:00Z'),
        ],
      }),
    );
    expect(planRows(drilled).map((r) => r.action)).toEqual(['keep', 'delete', 'keep']);
    expect(planRows(drilled)[2]!.reason).toBe('newest restore-drilled backup (always kept)');
  });

  it('keeps everything without a policy, but still collects garbage', () => {
    const plan = planPrune(
      input({
        policy: undefined,
        orphans: [
          { key: 'job/x/archive.tar.zst', size: 7, lastModified: new Date(now.getTime() - 48 * HOUR) },
        ],
      }),
    );
    expect(
      planRows(plan)
        .filter((r) => r.kind === 'backup')
        .every((r) => r.action === 'keep'),
    ).toBe(true);
    expect(plan.policy).toBe('none (keep everything)');
    expect(plan.totals).toMatchObject({ kept: 3, deleted: 0, garbage: 1, bytesFreed: 7 });
  });

  it('removes garbage only once older than the threshold, the boundary itself kept', () => {
    const at = (h: number) => new Date(now.getTime() - h * HOUR);
    const plan = planPrune(
      input({
        orphans: [
          { key: 'job/f1/archive.tar.zst', size: 1, lastModified: at(25) },
          { key: 'job/f2/archive.tar.zst', size: 1, lastModified: at(24) },
          { key: 'job/f3/archive.tar.zst', size: 1, lastModified: at(1) },
        ],
        incomplete: [
          { key: 'job/f4/archive.tar.zst', uploadId: 'u1', initiated: at(72) },
          { key: 'job/f5/archive.tar.zst', uploadId: 'u2', initiated: at(2) },
        ],
      }),
    );
    const garbage = planRows(plan)
      .filter((r) => r.kind !== 'backup')
      .map((r) => [r.kind, r.action, r.reason]);
    expect(garbage).toEqual([
      ['orphan', 'delete', 'no manifest (failed run), 1d1h old'],
      ['orphan', 'delete', 'no manifest (failed run), 1d old'],
      ['orphan', 'keep', 'no manifest, younger than 1d: may belong to a running backup'],
      ['upload', 'delete', 'incomplete upload started 3d ago'],
      ['upload', 'keep', 'incomplete upload, younger than 1d: may belong to a running backup'],
    ]);
    expect(plan.totals.garbage).toBe(3);
  });

  it('keeps a backup whole when any of its objects is under Object Lock, and says until when', () => {
    const until = new Date('2026-07-01T00:00:00Z');
    const plan = planPrune(
      input({
        locks: new Map([
          ['job/b2/archive.tar.zst', { mode: 'COMPLIANCE', until }],
          ['job/b1/manifest.json', { mode: 'GOVERNANCE', until: new Date('2026-06-01T00:00:00Z') }], // expired
          ['job/o/archive.tar.zst', { mode: 'GOVERNANCE', until }],
        ]),
        orphans: [{ key: 'job/o/archive.tar.zst', size: 1, lastModified: new Date('2026-01-01T00:00:00Z') }],
      }),
    );
    expect(planRows(plan).map((r) => [r.action, r.reason])).toEqual([
      ['keep', 'last #1'],
      ['locked', 'no rule matched; locked until 2026-07-01T00:00:00.000Z'],
      ['delete', 'no rule matched'],
      ['locked', 'no manifest; locked until 2026-07-01T00:00:00.000Z'],
    ]);
    expect(plan.totals).toMatchObject({ kept: 1, deleted: 1, locked: 1, garbage: 0 });
    expect(keysToDelete(plan)).toEqual([
      'job/b1/manifest.json',
      'job/b1/archive.tar.zst',
      'job/b1/index.jsonl.zst',
    ]);
  });

  it('plans nothing for an empty job', () => {
    const plan = planPrune(input({ backups: [] }));
    expect(planRows(plan)).toEqual([]);
    expect(plan.totals).toMatchObject({ kept: 0, deleted: 0 });
  });
});
