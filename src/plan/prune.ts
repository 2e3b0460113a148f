/**
 * The prune plan of one job: retention decisions for its backups plus the garbage failed runs
 * left behind. Pure; jobs/prune.ts gathers the inputs and carries the plan out, deleting exactly
 * what it says.
 *
 * Garbage is (a) incomplete uploads (S3 multipart uploads, filesystem temp files) and (b) orphan
 * objects: objects in a backup folder that has no manifest. Both only once older than
 * `garbageAgeMs` (default 24 h), so a backup still running on another machine is never touched.
 * Objects under S3 Object Lock are never planned for deletion; a backup with any locked object
 * is kept whole ("locked until …") so no half-deleted backup is left.
 *
 * Verify and drill results (the latest check of each backup) make the newest backup that passed
 * one kept by retention ("newest verified backup"), however new the unproven ones are.
 *
 * Incremental chains (plan/prune-chains.ts): every kept or locked backup keeps the ancestors it
 * needs ("parent of …", "base of …"); an incremental whose chain is already broken is marked
 * unrestorable, is never the newest good or proven backup, and is kept or deleted by the policy
 * like any other backup without pulling in anything.
 */
import { formatDuration } from '../config/duration.ts';
import type { IncompleteUpload, ObjectInfo, Retention } from '../storage/storage.ts';
import { brokenChains, describeBroken } from './chain-links.ts';
import { keepChains } from './prune-chains.ts';
import { describePolicy, planRetention, type RetentionPolicy } from './retention.ts';

export interface PruneBackup {
  id: string;
  /** When the backup was taken. */
  time: Date;
  /** Keys relative to the storage root, the manifest first. */
  keys: string[];
  bytes: number;
  /** Its latest verify or restore drill, when one is recorded. */
  check?: { kind: 'verify' | 'drill'; outcome: 'ok' | 'failed' } | undefined;
  /** For an incremental: the backup it needs (null: none recorded). Undefined for fulls and standalone archives. */
  parent?: string | null | undefined;
}

export interface PruneInput {
  job: string;
  now: Date;
  /** Undefined: the job has no retention policy, backups are all kept (garbage is still collected). */
  policy: RetentionPolicy | undefined;
  garbageAgeMs: number;
  backups: readonly PruneBackup[];
  /** Objects in backup folders without a manifest. */
  orphans: readonly ObjectInfo[];
  incomplete: readonly IncompleteUpload[];
  /** Object Lock retention by key, for the keys that were looked up. */
  locks?: ReadonlyMap<string, Retention> | undefined;
  /** Ids of backups whose manifest exists but cannot be read (named when a chain needs one). */
  unreadable?: readonly string[] | undefined;
}

export interface BackupRow {
  kind: 'backup';
  id: string;
  time: Date;
  action: 'keep' | 'delete' | 'locked';
  reason: string;
  keys: string[];
  bytes: number;
  lockedUntil?: Date;
  /** An incremental's parent. */
  parent?: string;
  /** Set when its chain is broken: why it cannot be restored. */
  unrestorable?: string;
  /** Set when it is kept only because this kept backup's chain needs it. */
  neededBy?: string;
}

export interface GarbageRow {
  kind: 'orphan' | 'upload';
  key: string;
  uploadId?: string;
  time: Date;
  bytes: number;
  action: 'delete' | 'keep' | 'locked';
  reason: string;
  lockedUntil?: Date;
}

export type PruneRow = BackupRow | GarbageRow;

export interface PrunePlan {
  job: string;
  policy: string;
  /** Backups newest first, then orphans, then incomplete uploads. */
  rows: PruneRow[];
  totals: {
    kept: number;
    deleted: number;
    locked: number;
    garbage: number;
    bytesFreed: number;
    /** Backups whose chain is broken (kept or not). */
    unrestorable: number;
  };
}

export function planPrune(input: PruneInput): PrunePlan {
  const { now, locks } = input;
  const lockOf = (keys: readonly string[]): Date | undefined => {
    if (!locks?.size) return undefined;
    let until: Date | undefined;
    for (const k of keys) {
      const r = locks?.get(k);
      if (r && r.until > now && (!until || r.until > until)) until = r.until;
    }
    return until;
  };
  const byId = new Map(input.backups.map((b) => [b.id, b]));
  const broken = brokenChains(input.backups, new Set(input.unreadable));
  const items = input.backups.map((b) => ({
    id: b.id,
    time: b.time,
    proven: provenBy(b.check),
    unrestorable: broken.get(b.id) !== undefined,
  }));
  const decisions = planRetention(items, input.policy ?? {}, now);
  const backupRows: BackupRow[] = decisions.map((d) => {
    const b = byId.get(d.id)!;
    const why = broken.get(d.id);
    const unrestorable = why && `unrestorable: ${describeBroken(d.id, why)}`;
    const base = {
      kind: 'backup' as const,
      id: d.id,
      time: d.time,
      keys: b.keys,
      bytes: b.bytes,
      ...(b.parent ? { parent: b.parent } : {}),
      ...(unrestorable ? { unrestorable } : {}),
    };
    const reason = [d.reasons.join(', '), ...(unrestorable ? [unrestorable] : [])].join('; ');
    if (d.action === 'keep') return { ...base, action: 'keep', reason };
    const until = lockOf(b.keys);
    if (until)
      return {
        ...base,
        action: 'locked',
        reason: `${reason}; locked until ${until.toISOString()}`,
        lockedUntil: until,
      };
    return { ...base, action: 'delete', reason };
  });
  keepChains(backupRows);
  const rows: PruneRow[] = backupRows;

  const cutoff = now.getTime() - input.garbageAgeMs;
  const young = `younger than ${formatDuration(input.garbageAgeMs)}: may belong to a running backup`;
  for (const o of input.orphans) {
    const base = { kind: 'orphan' as const, key: o.key, time: o.lastModified, bytes: o.size };
    const until = lockOf([o.key]);
    if (o.lastModified.getTime() > cutoff)
      rows.push({ ...base, action: 'keep', reason: `no manifest, ${young}` });
    else if (until)
      rows.push({
        ...base,
        action: 'locked',
        reason: `no manifest; locked until ${until.toISOString()}`,
        lockedUntil: until,
      });
    else
      rows.push({
        ...base,
        action: 'delete',
        reason: `no manifest (failed run), ${age(o.lastModified, now)} old`,
      });
  }
  for (const u of input.incomplete) {
    const base = { kind: 'upload' as const, key: u.key, uploadId: u.uploadId, time: u.initiated, bytes: 0 };
    if (u.initiated.getTime() > cutoff)
      rows.push({ ...base, action: 'keep', reason: `incomplete upload, ${young}` });
    else
      rows.push({
        ...base,
        action: 'delete',
        reason: `incomplete upload started ${age(u.initiated, now)} ago`,
      });
  }

  const totals = { kept: 0, deleted: 0, locked: 0, garbage: 0, bytesFreed: 0, unrestorable: 0 };
  for (const r of rows) {
    if (r.kind === 'backup') {
      totals[r.action === 'keep' ? 'kept' : r.action === 'delete' ? 'deleted' : 'locked']++;
      if (r.unrestorable) totals.unrestorable++;
    } else if (r.action === 'delete') totals.garbage++;
    if (r.action === 'delete') totals.bytesFreed += r.bytes;
  }
  return {
    job: input.job,
    policy: input.policy ? describePolicy(input.policy) : 'none (keep everything)',
    rows,
    totals,
  };
}

/** Keys the plan would delete: the ones whose Object Lock retention must be looked up first. */
export function keysToDelete(plan: PrunePlan): string[] {
  const keys: string[] = [];
  for (const r of plan.rows) {
    if (r.action !== 'delete') continue;
    if (r.kind === 'backup') keys.push(...r.keys);
    else if (r.kind === 'orphan') keys.push(r.key);
  }
  return keys;
}

function provenBy(check: PruneBackup['check']): string | undefined {
  if (check?.outcome !== 'ok') return undefined;
  return check.kind === 'verify' ? 'verified' : 'restore-drilled';
}

function age(from: Date, now: Date): string {
  return formatDuration(Math.max(0, now.getTime() - from.getTime()));
}
