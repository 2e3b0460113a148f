/**
 * What a copy of a job's backups from one storage to another does, and how far a copy lags.
 * Pure: two listings, the target's retention and the time in; a plan with reasons out.
 *
 * - A backup already in the target (its manifest is there) is never copied again.
 * - Without a request for particular backups, a missing backup is copied only if the target's
 *   retention would keep it among what the target holds: a copy that prune would delete next
 *   is not made (and a backup prune deleted from a copy is not brought back).
 * - Chains are copied whole: an incremental goes with every ancestor the target lacks, parents
 *   first, so the target never holds an incremental without its parents. One whose chain is
 *   broken in the source is not copied, and the plan says why.
 */
import type { BackupRef } from '../catalog/backups.ts';
import { chainOf } from '../catalog/chains.ts';
import type { BackupJob, CopyTarget } from '../config/schema.ts';
import { planRetention, type RetentionPolicy } from './retention.ts';

export interface CopyPlanInput {
  /** The job's backups in the source storage. */
  source: readonly BackupRef[];
  /** The job's backups in the target storage. */
  target: readonly BackupRef[];
  /** The target's retention; undefined keeps everything. */
  policy: RetentionPolicy | undefined;
  now: Date;
  /** Copy these backups (ids) and what their chains need, whatever the retention says. */
  only?: readonly string[] | undefined;
}

export interface CopyPlan {
  /** To copy, in order: every parent before its incrementals, otherwise oldest first. */
  copy: BackupRef[];
  /** Requested or wanted backups the target already has. */
  present: string[];
  skipped: Array<{ id: string; reason: string }>;
}

export function planCopy(input: CopyPlanInput): CopyPlan {
  const inTarget = new Set(input.target.map((b) => b.id));
  const requested = input.only ? input.source.filter((b) => input.only!.includes(b.id)) : [...input.source];
  const missing = requested.filter((b) => !inTarget.has(b.id));
  const present = requested.filter((b) => inTarget.has(b.id)).map((b) => b.id);
  const skipped: CopyPlan['skipped'] = [];

  let wanted = missing;
  if (!input.only && input.policy) {
    const items = [...input.target, ...missing].map((b) => ({
      id: b.id,
      time: new Date(b.manifest.startedAt),
    }));
    const keep = new Set(
      planRetention(items, input.policy, input.now)
        .filter((d) => d.action === 'keep')
        .map((d) => d.id),
    );
    wanted = missing.filter((b) => keep.has(b.id));
    for (const b of missing)
      if (!keep.has(b.id)) skipped.push({ id: b.id, reason: "the target's retention would not keep it" });
  }

  const all = [...input.source, ...input.target.filter((b) => !input.source.some((s) => s.id === b.id))];
  const chosen = new Map<string, BackupRef>();
  for (const b of wanted) {
    const chain = chainOf(b, all);
    if (!chain.ok) {
      skipped.push({ id: b.id, reason: `${chain.problem} (in the source)` });
      continue;
    }
    for (const link of chain.chain) if (!inTarget.has(link.id)) chosen.set(link.id, link);
  }
  return { copy: parentsFirst([...chosen.values()]), present, skipped };
}

/** Oldest first, except that a backup never comes before its parent. */
function parentsFirst(refs: BackupRef[]): BackupRef[] {
  const pending = [...refs].sort(
    (a, b) => a.manifest.startedAt.localeCompare(b.manifest.startedAt) || a.id.localeCompare(b.id),
  );
  const ids = new Set(pending.map((b) => b.id));
  const out: BackupRef[] = [];
  const done = new Set<string>();
  while (pending.length > 0) {
    const i = pending.findIndex((b) => {
      const parent = b.manifest.chain?.type === 'incremental' ? b.manifest.chain.parent : null;
      return !parent || !ids.has(parent) || done.has(parent);
    });
    const [next] = pending.splice(Math.max(i, 0), 1);
    out.push(next!);
    done.add(next!.id);
  }
  return out;
}

export interface CopyLag {
  /** Backups the target should have (by planCopy) and lacks. */
  missing: number;
  /** How long the oldest of them has been missing (since it finished); 0 when none is. */
  lagMs: number;
  oldestMissing?: { id: string; finishedAt: string } | undefined;
}

/** How far `target` lags `source`: what a copy run would copy now, and since when. */
export function copyLag(input: Omit<CopyPlanInput, 'only'>): CopyLag {
  const plan = planCopy(input);
  let oldest: BackupRef | undefined;
  for (const b of plan.copy) if (!oldest || b.manifest.finishedAt < oldest.manifest.finishedAt) oldest = b;
  if (!oldest) return { missing: 0, lagMs: 0 };
  return {
    missing: plan.copy.length,
    lagMs: Math.max(0, input.now.getTime() - Date.parse(oldest.manifest.finishedAt)),
    oldestMissing: { id: oldest.id, finishedAt: oldest.manifest.finishedAt },
  };
}

/** A storage a backup job keeps backups in: its own (`primary`) and each of its copies. */
export interface JobStorage {
  storage: string;
  role: 'primary' | 'copy';
  /** Retention in that storage: the copy's own, else the job's. */
  retention: BackupJob['retention'];
  /** Copies only: the configured maxLag. */
  maxLag?: number | undefined;
}

export function jobStorages(job: Pick<BackupJob, 'storage' | 'retention' | 'copies'>): JobStorage[] {
  return [
    { storage: job.storage, role: 'primary', retention: job.retention },
    ...job.copies.map((c: CopyTarget) => ({
      storage: c.storage,
      role: 'copy' as const,
      retention: c.retention ?? job.retention,
      maxLag: c.maxLag,
    })),
  ];
}

/** The retention policy of a storage of a job, in the job's time zone unless it names one. */
export function policyOf(
  retention: BackupJob['retention'],
  timezone: string | undefined,
): RetentionPolicy | undefined {
  return retention && { ...retention, timezone: retention.timezone ?? timezone };
}
