/**
 * The prune guard: prune deletes only when the listing it planned from is believable. A
 * transient error or a half-answered listing must never read as "fewer backups" and cost data.
 *
 * What makes a listing unbelievable (each rule names its evidence):
 * 1. A listing or read error: never reaches here, it aborts the prune (scanJob throws).
 * 2. Manifests that exist but could not be read: the picture is incomplete, and with `within`
 *    a missing newest backup shifts what is kept.
 * 3. Backups this machine knows exist are missing and nothing newer is listed. Prune never
 *    deletes a job's newest backup, so the newest backup the last prune saw, and the newest
 *    backup this machine committed (run history), can only disappear once something newer
 *    exists. If neither is listed and nothing newer is, the listing is wrong.
 * 4. Far fewer backups than the last prune left: only a prune deletes backups, so between two
 *    prunes the count can only grow. Fewer than half of what the last prune kept (when it kept
 *    at least 4) is refused.
 * Rules 3 and 4 also hold against the job's catalog in storage (`_bo/catalog/<job>.json.zst`,
 * written by every backup and prune of any machine): the memory shared by a fresh machine or a
 * second daemon, whose state database knows nothing. With no memory at all (no state, no
 * catalog) the guard says so (`guardMemory`) instead of silently passing.
 * `--force` overrides rules 2–4 after a human has looked (e.g. backups deleted by hand).
 */
import type { PruneSeen } from '../catalog/checks.ts';

export interface ListingFacts {
  job: string;
  /** The backups listed: how many, the newest one's start time (ISO), and whether one is among them. */
  listed: { count: number; newestAt?: string | undefined; has(id: string): boolean };
  unreadable: ReadonlyArray<{ key: string; error: string }>;
  /** What the previous prune of this job on this storage saw, from the state database. */
  previous?: PruneSeen | undefined;
  /** The newest backup this machine committed for the job (run history). */
  lastCommitted?: { id: string; at: string } | undefined;
  /** What the job's catalog in storage lists (any machine's backups and prunes). */
  catalog?: { updatedAt: string; count: number; newestId?: string; newestAt?: string } | undefined;
}

/** Minimum share of the previous prune's kept count a listing must reach. */
export const MIN_LISTED_FRACTION = 0.5;

/** Reasons to refuse, empty when the listing is believable. */
export function listingProblems(f: ListingFacts): string[] {
  const problems: string[] = [];
  if (f.unreadable.length > 0) {
    const first = f.unreadable[0]!;
    problems.push(
      `${f.unreadable.length} manifest(s) of ${f.job} could not be read (${first.key}: ${first.error}); prune acts only on a complete listing`,
    );
  }
  const newestListed = f.listed.newestAt ?? '';
  const vanished = (id: string | undefined, at: string | undefined) =>
    id !== undefined && !f.listed.has(id) && !(at !== undefined && newestListed > at);
  const prev = f.previous;
  if (prev && vanished(prev.newestId, prev.newestAt)) {
    problems.push(
      `backup ${f.job}/${prev.newestId}, the newest when the last prune ran (${prev.at}), is not listed and nothing newer is: the listing looks incomplete`,
    );
  }
  const last = f.lastCommitted;
  if (last && vanished(last.id, last.at)) {
    problems.push(
      `backup ${f.job}/${last.id}, committed by this machine at ${last.at}, is not listed and nothing newer is: the listing looks incomplete`,
    );
  }
  if (prev && prev.kept >= 4 && f.listed.count < Math.ceil(prev.kept * MIN_LISTED_FRACTION)) {
    problems.push(
      `the listing shows ${f.listed.count} backup(s) of ${f.job}, but the last prune (${prev.at}) left ${prev.kept}: suspiciously few`,
    );
  }
  const cat = f.catalog;
  if (cat && vanished(cat.newestId, cat.newestAt)) {
    problems.push(
      `backup ${f.job}/${cat.newestId}, the newest in the job's catalog in storage (written ${cat.updatedAt}), is not listed and nothing newer is: the listing looks incomplete`,
    );
  }
  if (cat && cat.count >= 4 && f.listed.count < Math.ceil(cat.count * MIN_LISTED_FRACTION)) {
    problems.push(
      `the listing shows ${f.listed.count} backup(s) of ${f.job}, but the job's catalog in storage (written ${cat.updatedAt}) lists ${cat.count}: suspiciously few`,
    );
  }
  return problems;
}

/** Undefined when the guard had something to compare with; else what the user should know. */
export function guardMemory(f: ListingFacts): string | undefined {
  if (f.previous || f.lastCommitted || f.catalog) return undefined;
  return `the guard has no memory of ${f.job} (no earlier prune or backup recorded on this machine, no catalog in storage): a listing that silently lost backups could not be told from a real one`;
}
