/**
 * Parent links between backups, from manifests alone: which backups' incremental chains are
 * complete, and for the others the first link that fails. Pure and linear in the backups, for
 * prune plans (plan/prune-chains.ts) and verify (jobs/verify-chain.ts) over whole listings.
 * (catalog/chains.ts follows one backup's chain.)
 */
import type { Manifest } from '../catalog/manifest.ts';

/** A backup as far as its chain is concerned. */
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
  // A backup on the path being followed is VISITING until its state is known: meeting it again is a loop.
  const states = new Map<string, BrokenChain | typeof VISITING | undefined>();
  const path: string[] = [];
  for (const b of backups) {
    if (states.has(b.id)) continue;
    path.length = 0;
    let state: BrokenChain | undefined;
    for (let cur: ChainLink | undefined = b; cur; ) {
      if (states.has(cur.id)) {
        const known = states.get(cur.id);
        state = known === VISITING ? { kind: 'loop', at: cur.id } : known;
        break;
      }
      path.push(cur.id);
      states.set(cur.id, VISITING);
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
  return states as Map<string, BrokenChain | undefined>;
}

const VISITING = Symbol('visiting');

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

/** A manifest's link: an incremental's parent, nothing for a full or standalone archive. */
export function chainLinkOf(m: {
  id: string;
  chain: Pick<NonNullable<Manifest['chain']>, 'type' | 'parent'> | null;
}): ChainLink {
  return m.chain?.type === 'incremental' ? { id: m.id, parent: m.chain.parent } : { id: m.id };
}
