/**
 * Incremental chains in a prune plan. Pure; plan/prune.ts uses it.
 *
 * - A backup is restorable when its chain is complete (plan/chain-links.ts). An incremental with
 *   a missing ancestor is not, and the plan says why ("unrestorable: its parent … is missing").
 * - Every backup the plan keeps (by a rule, a guard or an Object Lock) keeps its whole chain:
 *   each ancestor the policy would delete is kept instead, the reason naming what needs it
 *   ("parent of …", "ancestor of …", "base of …" for the full at the root).
 * - A kept unrestorable backup pulls in nothing: no chain could make it restorable again.
 */
import { brokenChains, type ChainLink } from './chain-links.ts';

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
