/**
 * Incremental chains in a prune plan. Pure; plan/prune.ts uses it.
 *
 * - A backup is restorable when its chain is complete: every parent link, up to a full (or a
 *   standalone archive), leads to a backup that is listed. An incremental with a missing
 *   ancestor is not, and the plan says why ("unrestorable: its parent … is missing").
 * - Every backup the plan keeps (by a rule, a guard or an Object Lock) keeps its whole chain:
 *   each ancestor the policy would delete is kept instead, the reason naming what needs it
 *   ("parent of …", "ancestor of …", "base of …" for the full at the root).
 * - A kept unrestorable backup pulls in nothing: no chain could make it restorable again.
 */

/** What plan/prune-chains.ts needs of a backup. */
export interface ChainLink {
  id: string;
  /** The parent an incremental needs; null: an incremental without a recorded parent; undefined: a full or standalone. */
  parent?: string | null | undefined;
}

/** Why a backup's chain is broken, relative to the backup itself. */
export interface BrokenChain {
  kind: 'missing' | 'unreadable' | 'no-parent' | 'loop';
  /** The backup whose parent link fails (for a loop: where it loops). */
  at: string;
  /** The parent that is not there (missing, unreadable). */
  missing?: string;
}

/** For every backup: undefined when its chain is complete, else why not. Linear in the backups. */
export function brokenChains(
  backups: readonly ChainLink[],
  unreadable: ReadonlySet<string> = new Set(),
): Map<string, BrokenChain | undefined> {
  const byId = new Map(backups.map((b) => [b.id, b]));
  const states = new Map<string, BrokenChain | undefined>();
  for (const b of backups) {
    if (states.has(b.id)) continue;
    const path: string[] = [];
    const onPath = new Set<string>();
    let state: BrokenChain | undefined;
    for (let cur: ChainLink | undefined = b; cur; ) {
      if (states.has(cur.id)) {
        state = states.get(cur.id);
        break;
      }
      if (onPath.has(cur.id)) {
        state = { kind: 'loop', at: cur.id };
        break;
      }
      path.push(cur.id);
      onPath.add(cur.id);
      if (cur.parent === undefined) break;
      if (cur.parent === null) {
        state = { kind: 'no-parent', at: cur.id };
        break;
      }
      const parent = byId.get(cur.parent);
      if (!parent) {
        const kind = unreadable.has(cur.parent) ? 'unreadable' : 'missing';
        state = { kind, at: cur.id, missing: cur.parent };
      }
      cur = parent;
    }
    for (const id of path) states.set(id, state);
  }
  return states;
}

/** "its parent X is missing", said of backup `id`. */
export function describeBroken(id: string, b: BrokenChain): string {
  const self = b.at === id;
  const gone = b.kind === 'unreadable' ? "'s manifest is unreadable" : ' is missing';
  switch (b.kind) {
    case 'loop':
      return `its chain loops at ${b.at}`;
    case 'no-parent':
      return self
        ? 'it is an incremental without a recorded parent'
        : `its ancestor ${b.at} is an incremental without a recorded parent`;
    default:
      return self ? `its parent ${b.missing}${gone}` : `${b.missing}, parent of its ancestor ${b.at},${gone}`;
  }
}

/** A prune row as far as chains are concerned. */
export interface ChainRow extends ChainLink {
  action: 'keep' | 'delete' | 'locked';
  reason: string;
  /** Set when the chain is broken: why the backup cannot be restored. */
  unrestorable?: string | undefined;
  /** Set on a backup kept only because a kept backup's chain needs it: that backup. */
  neededBy?: string | undefined;
}

/**
 * Keeps (in place) every ancestor of every kept or locked restorable row that the policy would
 * delete. `rows` newest first; each walk stops at an ancestor that is kept anyway, whose own
 * walk covers the rest of the chain.
 */
export function keepChains<R extends ChainRow>(rows: R[]): void {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const parentOf = (r: R) => (r.parent ? byId.get(r.parent) : undefined);
  for (const r of rows) {
    if (r.action === 'delete' || r.unrestorable) continue;
    const parent = parentOf(r);
    for (let a = parent; a && a.action === 'delete'; a = parentOf(a)) {
      a.action = 'keep';
      a.reason = `${!a.parent ? 'base' : a === parent ? 'parent' : 'ancestor'} of ${r.id}`;
      a.neededBy = r.id;
    }
  }
}

/**
 * Backups the plan keeps whose chain it would break: a kept or locked backup with a complete
 * chain whose parent would be deleted (so by induction every kept chain is whole). Computed from
 * the rows' links alone, not from what the planner marked. keepChains makes this empty; prune
 * checks it before deleting anything. Linear in the rows.
 */
export function orphanedByPlan(rows: readonly ChainRow[]): string[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const broken = brokenChains(rows);
  const problems: string[] = [];
  for (const r of rows) {
    if (r.action === 'delete' || broken.get(r.id) || !r.parent) continue;
    if (byId.get(r.parent)?.action === 'delete')
      problems.push(`${r.id} is kept but its parent ${r.parent} would be deleted`);
  }
  return problems;
}
