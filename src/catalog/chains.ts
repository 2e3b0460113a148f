/**
 * Incremental chains from manifests alone: which backups an incremental needs (its ancestors, up
 * to the full at the root), and whether they are all there. Pure: works on a job's listing.
 */
import type { BackupRef } from './backups.ts';

export type ChainResult =
  | { ok: true; chain: BackupRef[] }
  /** `chain`: the part that could be followed, newest last; `missing`: the first link not found. */
  | { ok: false; chain: BackupRef[]; missing: string; problem: string };

/**
 * The chain a backup restores from, full first and the backup itself last (just the backup for a
 * full or a standalone archive). `backups` are the job's backups in one storage.
 */
export function chainOf(ref: BackupRef, backups: readonly BackupRef[]): ChainResult {
  const byId = new Map(backups.filter((b) => b.job === ref.job).map((b) => [b.id, b]));
  const chain: BackupRef[] = [ref];
  const seen = new Set([ref.id]);
  for (let cur = ref; cur.manifest.chain?.type === 'incremental'; ) {
    const parentId = cur.manifest.chain.parent;
    const parent = parentId ? byId.get(parentId) : undefined;
    if (!parentId || !parent) {
      return {
        ok: false,
        chain: chain.reverse(),
        missing: parentId ?? '(none)',
        problem: `backup ${ref.job}/${ref.id} is an incremental whose ${cur === ref ? 'parent' : `ancestor ${cur.id}'s parent`} ${parentId ?? '(none recorded)'} is missing: it cannot be restored`,
      };
    }
    if (seen.has(parent.id)) {
      return {
        ok: false,
        chain: chain.reverse(),
        missing: parent.id,
        problem: `backup ${ref.job}/${ref.id}: its chain loops at ${parent.id}`,
      };
    }
    seen.add(parent.id);
    chain.push(parent);
    cur = parent;
  }
  return { ok: true, chain: chain.reverse() };
}

/** The ancestors `ref` needs (not itself), nearest first; empty for fulls. */
export function ancestorsOf(ref: BackupRef, backups: readonly BackupRef[]): BackupRef[] {
  return chainOf(ref, backups).chain.slice(0, -1).reverse();
}
