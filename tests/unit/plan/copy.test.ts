import { describe, expect, it } from 'vitest';
import type { BackupRef } from '../../../src/catalog/backups.ts';
import type { ChainInfo, Manifest } from '../../../src/catalog/manifest.ts';
import { copyLag, jobStorages, planCopy } from '../../../src/plan/copy.ts';

const DAY = 86_400_000;
const now = new Date('2026-12-20T12:00:00Z');

/** A backup `daysAgo` days before now; `parent` makes it an incremental of that id. */
function b(id: string, daysAgo: number, parent?: string, root?: string): BackupRef {
  const at = new Date(now.getTime() - daysAgo * DAY).toISOString();
  const chain: ChainInfo | null = parent
    ? { type: 'incremental', level: 1, parent, root: root ?? parent }
    : { type: 'full', level: 0, parent: null, root: id };
  return { job: 'j', id, manifest: { id, job: 'j', startedAt: at, finishedAt: at, chain } as Manifest };
}
const ids = (refs: readonly BackupRef[]) => refs.map((r) => r.id);

describe('planCopy', () => {
  it('copies what the target lacks, oldest first, and nothing twice', () => {
    const source = [b('a', 3), b('b', 2), b('c', 1)];
    const plan = planCopy({ source, target: [b('a', 3)], policy: undefined, now });
    expect(ids(plan.copy)).toEqual(['b', 'c']);
    expect(plan.present).toEqual(['a']);
  });

  it("copies only what the target's retention keeps, and never brings back what it pruned", () => {
    // Daily backups; the cold target keeps one per month: only the newest of December is wanted.
    const source = [b('nov30', 20), b('dec01', 19), b('dec10', 10), b('dec19', 1)];
    const plan = planCopy({ source, target: [b('nov30', 20)], policy: { monthly: 12 }, now });
    expect(ids(plan.copy)).toEqual(['dec19']);
    expect(plan.skipped.map((s) => s.id).sort()).toEqual(['dec01', 'dec10']);
    expect(plan.skipped[0]!.reason).toMatch(/retention would not keep it/);
  });

  it('copies an incremental with every ancestor the target lacks, parents first', () => {
    const source = [b('f', 5), b('i1', 4, 'f'), b('i2', 3, 'i1', 'f'), b('i3', 2, 'i2', 'f')];
    // Explicitly asked for i2: its chain comes too, not i3.
    const plan = planCopy({ source, target: [], policy: undefined, now, only: ['i2'] });
    expect(ids(plan.copy)).toEqual(['f', 'i1', 'i2']);
    // The target already has the full: only the incrementals go.
    const rest = planCopy({ source, target: [b('f', 5)], policy: undefined, now });
    expect(ids(rest.copy)).toEqual(['i1', 'i2', 'i3']);
  });

  it('keeps parents first even when clocks disagree about the order', () => {
    const source = [b('f', 1), b('i1', 2, 'f')]; // the incremental claims an earlier start
    expect(ids(planCopy({ source, target: [], policy: undefined, now }).copy)).toEqual(['f', 'i1']);
  });

  it('never copies an incremental whose chain is broken in the source', () => {
    const source = [b('i2', 2, 'i1', 'f')];
    const plan = planCopy({ source, target: [], policy: undefined, now });
    expect(plan.copy).toEqual([]);
    expect(plan.skipped[0]).toMatchObject({ id: 'i2' });
    expect(plan.skipped[0]!.reason).toMatch(/parent i1 is missing/);
  });

  it('retention wanting an incremental brings its whole chain', () => {
    const source = [b('f', 3), b('i1', 2, 'f'), b('i2', 1, 'i1', 'f')];
    const plan = planCopy({ source, target: [], policy: { last: 1 }, now });
    expect(ids(plan.copy)).toEqual(['f', 'i1', 'i2']);
  });
});

describe('copyLag', () => {
  it('is zero when the target has everything it should', () => {
    const source = [b('a', 2), b('b', 1)];
    expect(copyLag({ source, target: source, policy: undefined, now })).toEqual({ missing: 0, lagMs: 0 });
  });

  it('counts from when the oldest missing backup finished', () => {
    const source = [b('a', 2), b('b', 1)];
    const lag = copyLag({ source, target: [b('a', 2)], policy: undefined, now });
    expect(lag).toMatchObject({ missing: 1, lagMs: DAY, oldestMissing: { id: 'b' } });
  });
});

describe('jobStorages', () => {
  it("lists the primary and each copy, a copy inheriting the job's retention unless it has its own", () => {
    const r = jobStorages({
      storage: 'fast',
      retention: { daily: 14 },
      copies: [{ storage: 'cold', retention: { monthly: 12 } }, { storage: 'nas' }],
    });
    expect(r).toEqual([
      { storage: 'fast', role: 'primary', retention: { daily: 14 } },
      { storage: 'cold', role: 'copy', retention: { monthly: 12 }, maxLag: undefined },
      { storage: 'nas', role: 'copy', retention: { daily: 14 }, maxLag: undefined },
    ]);
  });
});
