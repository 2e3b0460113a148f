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
import { brokenChainsAt, type ChainColumns } from './chain-links.ts';

/** A plan's backups as keepChainsAt reads and marks them, by position in `links`. */
export interface ChainMarks {
  actions: Uint8Array;
  reasons: string[];
  /** Positions kept only because a kept backup's chain needs them: that backup's id. */
  neededBy: Map<number, string>;
  /** Positions whose chain is broken. */
  unrestorable: ReadonlyMap<number, unknown>;
}

/** Action codes in ChainMarks.actions. */
export const KEEP = 0;
export const DELETE = 1;
export const LOCKED = 2;

/**
 * Keeps (in place) every ancestor of every kept or locked restorable backup that the policy
 * would delete. `order`: positions newest first; each walk stops at an ancestor that is kept
 * anyway, whose own walk covers the rest of the chain.
 */
export function keepChainsAt(links: ChainColumns, order: ArrayLike<number>, marks: ChainMarks): void {
  const { ids, parents, indexOf } = links;
  const parentOf = (i: number) => {
    const p = parents[i];
    return p ? indexOf.get(p) : undefined;
  };
  for (let k = 0; k < order.length; k++) {
    const r = order[k]!;
    if (marks.actions[r] === DELETE || marks.unrestorable.has(r)) continue;
    const parent = parentOf(r);
    for (let a = parent; a !== undefined && marks.actions[a] === DELETE; a = parentOf(a)) {
      marks.actions[a] = KEEP;
      marks.reasons[a] = `${!parents[a] ? 'base' : a === parent ? 'parent' : 'ancestor'} of ${ids[r]}`;
      marks.neededBy.set(a, ids[r]!);
    }
  }
}

/**
 * Backups the plan keeps whose chain it would break: a kept or locked backup with a complete
 * chain whose parent would be deleted (so by induction every kept chain is whole), visiting
 * positions in `order`. Computed from the links alone, not from what the planner marked.
 * keepChainsAt makes this empty; prune checks it before deleting anything. Linear.
 */
export function orphanedAt(
  links: ChainColumns,
  order: Iterable<number>,
  deleted: (i: number) => boolean,
): string[] {
  const broken = brokenChainsAt(links);
  const problems: string[] = [];
  for (const i of order) {
    const parent = links.parents[i];
    if (deleted(i) || broken.has(i) || !parent) continue;
    const p = links.indexOf.get(parent);
    if (p !== undefined && deleted(p))
      problems.push(`${links.ids[i]} is kept but its parent ${parent} would be deleted`);
  }
  return problems;
}
