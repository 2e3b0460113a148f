import { describe, expect, it } from 'vitest';
import { brokenChains, describeBroken } from '../../../src/plan/chain-links.ts';
import { type BackupRow, type PruneInput, planPrune } from '../../../src/plan/prune.ts';
import { type PruneBackup, pruneBackups } from '../../../src/plan/prune-backups.ts';
import { DELETE } from '../../../src/plan/prune-chains.ts';
import { chainsBrokenBy, keysToDelete, planRows } from '../../../src/plan/prune-rows.ts';

const now = new Date('2026-12-20T12:00:00Z');

/** Backup `id` taken on December `day` 2026 at 03:00 UTC; `parent` makes it an incremental. */
function b(id: string, day: number, parent?: string | null, check?: PruneBackup['check']): PruneBackup {
  return {
    id,
    time: new Date(Date.UTC(2026, 11, day, 3)),
    names: ['manifest.json', 'archive.tar.zst', 'index.jsonl.zst'],
    bytes: 100,
    ...(parent !== undefined ? { parent } : {}),
    ...(check ? { check } : {}),
  };
}

type Input = Omit<PruneInput, 'backups'> & { backups: PruneBackup[] };
const input = (backups: PruneBackup[], over: Partial<Input> = {}): Input => ({
  job: 'job',
  now,
  policy: { last: 1, timezone: 'UTC' },
  garbageAgeMs: 86_400_000,
  backups,
  orphans: [],
  incomplete: [],
  ...over,
});

const planOf = (i: Input) => planPrune({ ...i, backups: pruneBackups(i.backups) });

/** "id action reason" per backup, newest first. */
function rows(i: Input): string[] {
  return planRows(planOf(i))
    .filter((r): r is BackupRow => r.kind === 'backup')
    .map((r) => `${r.id} ${r.action} ${r.reason}`);
}

/** Two chains: f1 ← a1 ← a2 ← a3 (days 1–4) and f2 ← c1 ← c2 (days 5–7). */
const twoChains = () => [
  b('f1', 1),
  b('a1', 2, 'f1'),
  b('a2', 3, 'a1'),
  b('a3', 4, 'a2'),
  b('f2', 5),
  b('c1', 6, 'f2'),
  b('c2', 7, 'c1'),
];

describe('planPrune with incremental chains', () => {
  it('a policy keeping only the newest (an incremental) keeps its whole chain, and says why', () => {
    const i = input(twoChains());
    expect(rows(i)).toEqual([
      'c2 keep last #1',
      'c1 keep parent of c2',
      'f2 keep base of c2',
      'a3 delete no rule matched',
      'a2 delete no rule matched',
      'a1 delete no rule matched',
      'f1 delete no rule matched',
    ]);
    const plan = planOf(i);
    expect(plan.totals).toMatchObject({ kept: 3, deleted: 4, unrestorable: 0 });
    const f2 = planRows(plan).find((r) => r.kind === 'backup' && r.id === 'f2') as BackupRow;
    expect(f2).toMatchObject({ action: 'keep', neededBy: 'c2' });
    expect(planRows(plan).find((r) => r.kind === 'backup' && r.id === 'c1')).toMatchObject({ parent: 'f2' });
    expect(keysToDelete(plan)).not.toContain('job/f2/archive.tar.zst');
  });

  it('a kept level-3 incremental pulls in every ancestor down to its full', () => {
    // ISO week 49 (Tue 1 to Fri 4 December): f1 ← a1 ← a2 ← a3; week 50 (Mon 7 on): f2 ← c1 ← c2.
    const backups = [
      b('f1', 1),
      b('a1', 2, 'f1'),
      b('a2', 3, 'a1'),
      b('a3', 4, 'a2'),
      b('f2', 7),
      b('c1', 8, 'f2'),
      b('c2', 9, 'c1'),
    ];
    expect(rows(input(backups, { policy: { weekly: 2, timezone: 'UTC' } }))).toEqual([
      'c2 keep weekly #1',
      'c1 keep parent of c2',
      'f2 keep base of c2',
      'a3 keep weekly #2',
      'a2 keep parent of a3',
      'a1 keep ancestor of a3',
      'f1 keep base of a3',
    ]);
  });

  it('names the nearest kept backup: an ancestor kept by a rule covers the rest of the chain', () => {
    const i = input(twoChains(), { policy: { last: 1, timezone: 'UTC' }, unreadable: [] });
    const checked = i.backups.map((x) =>
      x.id === 'a1' ? { ...x, check: { kind: 'verify' as const, outcome: 'ok' as const } } : x,
    );
    expect(rows({ ...i, backups: checked })).toEqual([
      'c2 keep last #1',
      'c1 keep parent of c2',
      'f2 keep base of c2',
      'a3 delete no rule matched',
      'a2 delete no rule matched',
      'a1 keep newest verified backup (always kept)',
      'f1 keep base of a1',
    ]);
  });

  it('a missing middle incremental: the rest of its chain is unrestorable, the newest good backup keeps its chain', () => {
    const backups = [b('f1', 1), b('a1', 2, 'f1'), /* a2 is gone */ b('a3', 4, 'a2'), b('a4', 5, 'a3')];
    const plan = planOf(input(backups));
    expect(rows(input(backups))).toEqual([
      'a4 keep last #1; unrestorable: a2, parent of its ancestor a3, is missing',
      'a3 delete no rule matched; unrestorable: its parent a2 is missing',
      'a1 keep newest successful backup (always kept)',
      'f1 keep base of a1',
    ]);
    expect(plan.totals).toMatchObject({ kept: 3, deleted: 1, unrestorable: 2 });
    expect(planRows(plan)[0]).toMatchObject({
      unrestorable: 'unrestorable: a2, parent of its ancestor a3, is missing',
    });
  });

  it('never counts an unrestorable backup as the newest good or proven one', () => {
    const ok = { kind: 'verify' as const, outcome: 'ok' as const };
    const backups = [b('f1', 1), b('a1', 2, 'f1'), b('a3', 4, 'a2', ok), b('a4', 5, 'a3')];
    // No rule matches anything: the newest is kept (the guard relies on it), and so is the newest
    // restorable one, with its chain; the verified a3 is not restorable and goes.
    expect(rows(input(backups, { policy: { within: 1000, timezone: 'UTC' } }))).toEqual([
      'a4 keep newest backup (always kept); unrestorable: a2, parent of its ancestor a3, is missing',
      'a3 delete no rule matched; unrestorable: its parent a2 is missing',
      'a1 keep newest successful backup (always kept)',
      'f1 keep base of a1',
    ]);
  });

  it('keeps the chain of a backup the policy drops but Object Lock keeps', () => {
    const until = new Date('2027-01-01T00:00:00Z');
    const plan = planOf(
      input(twoChains(), { locks: new Map([['job/a2/archive.tar.zst', { mode: 'COMPLIANCE', until }]]) }),
    );
    expect(planRows(plan).map((r) => `${(r as BackupRow).id} ${r.action} ${r.reason}`)).toEqual([
      'c2 keep last #1',
      'c1 keep parent of c2',
      'f2 keep base of c2',
      'a3 delete no rule matched',
      'a2 locked no rule matched; locked until 2027-01-01T00:00:00.000Z',
      'a1 keep parent of a2',
      'f1 keep base of a2',
    ]);
  });

  it('says when the missing parent is only unreadable, an incremental without parent, or a loop', () => {
    const backups = [b('f1', 1), b('x1', 2, 'gone'), b('n1', 3, null), b('l1', 4, 'l2'), b('l2', 5, 'l1')];
    const states = brokenChains(backups, new Set(['gone']));
    expect(states.get('f1')).toBeUndefined();
    expect(describeBroken('x1', states.get('x1')!)).toBe("its parent gone's manifest is unreadable");
    expect(describeBroken('n1', states.get('n1')!)).toBe('it is an incremental without a recorded parent');
    expect(describeBroken('l1', states.get('l1')!)).toMatch(/^its chain loops at l[12]$/);
    expect(states.get('l2')?.kind).toBe('loop');
  });

  it('chainsBrokenBy catches a plan that deletes what a kept backup needs', () => {
    const plan = planOf(input(twoChains()));
    expect(chainsBrokenBy(plan)).toEqual([]);
    const actions = Uint8Array.from(plan.backups.actions);
    actions[plan.input.ids.indexOf('f2')] = DELETE;
    const broken = { ...plan, backups: { ...plan.backups, actions } };
    expect(chainsBrokenBy(broken)).toEqual(['c1 is kept but its parent f2 would be deleted']);
  });

  it('keeps whole chains at scale: 20,000 hourly backups, a full every 500', () => {
    const many: PruneBackup[] = [];
    const start = Date.UTC(2016, 0, 1);
    for (let i = 0; i < 20_000; i++) {
      const id = `b${String(i).padStart(6, '0')}`;
      const parent = i % 500 === 0 ? undefined : `b${String(i - 1).padStart(6, '0')}`;
      many.push({
        id,
        time: new Date(start + i * 3_600_000),
        names: ['manifest.json'],
        bytes: 1,
        ...(parent ? { parent } : {}),
      });
    }
    const plan = planOf(
      input(many, {
        policy: { daily: 7, weekly: 4, monthly: 12, timezone: 'UTC' },
        now: new Date(start + 20_000 * 3_600_000),
      }),
    );
    expect(chainsBrokenBy(plan)).toEqual([]);
    expect(plan.totals.kept).toBeGreaterThan(500); // whole chains up to each kept backup
  });
});
