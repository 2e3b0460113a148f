/**
 * Views of a prune plan (plan/prune.ts): its rows as objects, made one at a time from its
 * columns, and what jobs/prune.ts checks and deletes.
 */
import type { BackupRow, PrunePlan, PruneRow } from './prune.ts';
import { backupKeys } from './prune-backups.ts';
import { DELETE, orphanedAt } from './prune-chains.ts';

/** BackupPlan.actions codes as BackupRow.action says them. */
export const BACKUP_ACTIONS = ['keep', 'delete', 'locked'] as const;

/** The row of the backup at position `i` (of plan.input). */
export function backupRow(plan: PrunePlan, i: number): BackupRow {
  const b = plan.input;
  const p = plan.backups;
  const parent = b.parents[i];
  const unrestorable = p.unrestorable.get(i);
  const neededBy = p.neededBy.get(i);
  const lockedUntil = p.lockedUntil.get(i);
  return {
    kind: 'backup',
    id: b.ids[i]!,
    time: new Date(b.times[i]!),
    action: BACKUP_ACTIONS[p.actions[i]!]!,
    reason: p.reasons[i]!,
    keys: [...backupKeys(plan.job, b, i)],
    bytes: b.bytes[i]!,
    ...(lockedUntil ? { lockedUntil } : {}),
    ...(parent ? { parent } : {}),
    ...(unrestorable ? { unrestorable } : {}),
    ...(neededBy ? { neededBy } : {}),
  };
}

/** The backups' rows newest first, made one at a time. */
export function* backupRows(plan: PrunePlan): Generator<BackupRow> {
  for (const i of plan.backups.order) yield backupRow(plan, i);
}

/** Every row: backups newest first, then orphans, then incomplete uploads. For small plans. */
export function planRows(plan: PrunePlan): PruneRow[] {
  return [...backupRows(plan), ...plan.garbage];
}

/** Positions of the backups the plan deletes, newest first. */
export function deletedBackups(plan: PrunePlan): number[] {
  return Array.from(plan.backups.order).filter((i) => plan.backups.actions[i] === DELETE);
}

/** keepChainsAt's double check (plan/prune-chains.ts orphanedAt), over the plan's columns. */
export function chainsBrokenBy(plan: PrunePlan): string[] {
  const { actions, order, links } = plan.backups;
  return orphanedAt(links, order, (i) => actions[i] === DELETE);
}

/** Keys the plan would delete: the ones whose Object Lock retention must be looked up first. */
export function keysToDelete(plan: PrunePlan): string[] {
  const keys: string[] = [];
  for (const i of deletedBackups(plan)) keys.push(...backupKeys(plan.job, plan.input, i));
  for (const r of plan.garbage) if (r.action === 'delete' && r.kind === 'orphan') keys.push(r.key);
  return keys;
}
