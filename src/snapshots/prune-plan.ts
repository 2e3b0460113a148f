/**
 * Which snapshots `bo snapshot prune` (and each snapshot job run) deletes, and why. Pure: the
 * same retention planner as backups (plan/retention.ts), plus two rules of its own:
 * - an LVM snapshot whose CoW space overflowed is invalid and useless: always deleted;
 * - a backup run's snapshot (it carries a run marker) still there after `leftoverAgeMs` belongs
 *   to a run that crashed: deleted (the job's next run would remove it too).
 */
import type { Retention } from '../config/schema.ts';
import { planRetention, type RetentionPolicy } from '../plan/retention.ts';
import type { SnapshotInfo } from './provider.ts';

export const LEFTOVER_AGE_MS = 24 * 3_600_000;
export const INVALID_REASON = 'invalid: its copy-on-write space overflowed';
export const LEFTOVER_REASON = 'leftover of an interrupted backup run';

export interface SnapshotPruneRow {
  snapshot: SnapshotInfo;
  action: 'keep' | 'delete';
  reasons: string[];
}

export function retentionPolicy(
  retention: Retention | undefined,
  jobTimezone?: string,
): RetentionPolicy | undefined {
  if (!retention) return undefined;
  return { ...retention, timezone: retention.timezone ?? jobTimezone };
}

/** Plan for one snapshot job's snapshots (all of the same job), newest first. */
export function planSnapshotPrune(
  snaps: readonly SnapshotInfo[],
  policy: RetentionPolicy | undefined,
  now: Date,
): SnapshotPruneRow[] {
  const invalid = snaps.filter((s) => s.invalid);
  const valid = snaps.filter((s) => !s.invalid);
  const rows: SnapshotPruneRow[] = invalid.map((s) => ({
    snapshot: s,
    action: 'delete',
    reasons: [INVALID_REASON],
  }));
  if (!policy) {
    rows.push(
      ...valid.map((s) => ({ snapshot: s, action: 'keep' as const, reasons: ['no retention policy'] })),
    );
  } else {
    const byName = new Map(valid.map((s) => [s.name, s]));
    for (const d of planRetention(
      valid.map((s) => ({ id: s.name, time: s.time })),
      policy,
      now,
    )) {
      rows.push({ snapshot: byName.get(d.id)!, action: d.action, reasons: d.reasons });
    }
  }
  return rows.sort((a, b) => b.snapshot.time.getTime() - a.snapshot.time.getTime());
}

/**
 * Plan for a backup job's snapshots: only marked leftovers older than `leftoverAgeMs` go, and
 * none while `lockHolder` (who holds the job's storage lock) says a run of the job is going: a
 * run older than the limit may still be reading its snapshot.
 */
export function planLeftoverPrune(
  snaps: readonly SnapshotInfo[],
  now: Date,
  leftoverAgeMs = LEFTOVER_AGE_MS,
  lockHolder?: string,
): SnapshotPruneRow[] {
  return snaps
    .map((s): SnapshotPruneRow => {
      if (s.marker && lockHolder)
        return {
          snapshot: s,
          action: 'keep',
          reasons: [`the job's lock is held (${lockHolder}): a run may be using it`],
        };
      if (s.invalid) return { snapshot: s, action: 'delete', reasons: [INVALID_REASON] };
      if (!s.marker)
        return { snapshot: s, action: 'keep', reasons: ['no run marker: not removed automatically'] };
      if (now.getTime() - s.time.getTime() < leftoverAgeMs)
        return { snapshot: s, action: 'keep', reasons: ['a backup run may still be using it'] };
      return { snapshot: s, action: 'delete', reasons: [LEFTOVER_REASON] };
    })
    .sort((a, b) => b.snapshot.time.getTime() - a.snapshot.time.getTime());
}
