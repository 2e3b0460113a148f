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
  const links = chainColumns(backups);
  const broken = brokenChainsAt(links, unreadable);
  return new Map(links.ids.map((id, i) => [id, broken.get(i)]));
}

/** Backups' links as columns (plan/prune.ts plans 200,000 without an object each). */
export interface ChainColumns {
  ids: readonly string[];
  parents: ReadonlyArray<string | null | undefined>;
  /** Position of each id in `ids`. */
  indexOf: ReadonlyMap<string, number>;
}

export function chainColumns(backups: readonly ChainLink[]): ChainColumns {
  return linkColumns(
    backups.map((b) => b.id),
    backups.map((b) => b.parent),
  );
}

/** Ids and their parents, side by side, as ChainColumns. */
export function linkColumns(
  ids: readonly string[],
  parents: ReadonlyArray<string | null | undefined>,
): ChainColumns {
  return { ids, parents, indexOf: new Map(ids.map((id, i) => [id, i])) };
}

/** brokenChains over columns: the broken ones only, by position. */
export function brokenChainsAt(
  links: ChainColumns,
  unreadable: ReadonlySet<string> = new Set(),
): Map<number, BrokenChain> {
  const { ids, parents, indexOf } = links;
  // Per position: 0 not yet known, VISITING on the path being followed (meeting it again is a
  // loop), DONE once known (broken ones are in `broken`).
  const state = new Uint8Array(ids.length);
  const broken = new Map<number, BrokenChain>();
  const path: number[] = [];
  for (let b = 0; b < ids.length; b++) {
    if (state[b] !== 0) continue;
    path.length = 0;
    let why: BrokenChain | undefined;
    for (let cur: number | undefined = b; cur !== undefined; ) {
      if (state[cur] === DONE) {
        why = broken.get(cur);
        break;
      }
      if (state[cur] === VISITING) {
        why = { kind: 'loop', at: ids[cur]! };
        break;
      }
      path.push(cur);
      state[cur] = VISITING;
      const parent = parents[cur];
      if (parent === undefined) break;
      if (parent === null) {
        why = { kind: 'no-parent', at: ids[cur]! };
        break;
      }
      const next = indexOf.get(parent);
      if (next === undefined) {
        const kind = unreadable.has(parent) ? 'unreadable' : 'missing';
        why = { kind, at: ids[cur]!, missing: parent };
      }
      cur = next;
    }
    for (const p of path) {
      state[p] = DONE;
      if (why) broken.set(p, why);
    }
  }
  return broken;
}

const VISITING = 1;
const DONE = 2;

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
