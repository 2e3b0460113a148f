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
import { brokenChainsAt, type ChainColumns, describeBroken } from './chain-links.ts';
import { type BackupCheck, backupKeys, linksOf, newestFirst, type PruneBackups } from './prune-backups.ts';
import { DELETE, KEEP, keepChainsAt, LOCKED } from './prune-chains.ts';
import {
  describePolicy,
  NO_RULE_REASON,
  type RetentionPolicy,
  type RetentionView,
  retentionReasons,
} from './retention.ts';

export interface PruneInput {
  job: string;
  now: Date;
  /** Undefined: the job has no retention policy, backups are all kept (garbage is still collected). */
  policy: RetentionPolicy | undefined;
  garbageAgeMs: number;
  backups: PruneBackups;
  /** Objects in backup folders without a manifest. */
  orphans: readonly ObjectInfo[];
  incomplete: readonly IncompleteUpload[];
  /** Object Lock retention by key, for the keys that were looked up. */
  locks?: ReadonlyMap<string, Retention> | undefined;
  /** Ids of backups whose manifest exists but cannot be read (named when a chain needs one). */
  unreadable?: readonly string[] | undefined;
}

/** One backup's line of the plan, as backupRow makes it. */
export interface BackupRow {
  kind: 'backup';
  id: string;
  time: Date;
  action: 'keep' | 'delete' | 'locked';
  reason: string;
  /** Keys relative to the storage root, the manifest first. */
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

/** The plan's backups: decisions as columns beside the input's, by the input's positions. */
export interface BackupPlan {
  /** Positions newest first (ties by id, descending): the order rows are shown in. */
  order: Uint32Array;
  /** The backups' parent links, with each id's position. */
  links: ChainColumns;
  /** KEEP, DELETE or LOCKED (plan/prune-chains.ts). */
  actions: Uint8Array;
  reasons: string[];
  unrestorable: Map<number, string>;
  neededBy: Map<number, string>;
  lockedUntil: Map<number, Date>;
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
  /** The input's backups (the plan's decisions refer to their positions). */
  input: PruneBackups;
  backups: BackupPlan;
  /** Orphans, then incomplete uploads. */
  garbage: GarbageRow[];
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
  const lockOf = (keys: Iterable<string>): Date | undefined => {
    if (!locks?.size) return undefined;
    let until: Date | undefined;
    for (const k of keys) {
      const r = locks?.get(k);
      if (r && r.until > now && (!until || r.until > until)) until = r.until;
    }
    return until;
  };
  const b = input.backups;
  const n = b.ids.length;
  const links = linksOf(b);
  const broken = brokenChainsAt(links, new Set(input.unreadable));
  const order = newestFirst(b);
  const plan: BackupPlan = {
    order,
    links,
    actions: new Uint8Array(n),
    reasons: new Array<string>(n),
    unrestorable: new Map(),
    neededBy: new Map(),
    lockedUntil: new Map(),
  };
  for (const [i, why] of broken) plan.unrestorable.set(i, `unrestorable: ${describeBroken(b.ids[i]!, why)}`);
  const view: RetentionView = {
    length: n,
    time: (k) => b.times[order[k]!]!,
    proven: (k) => provenBy(b.checks.get(order[k]!)),
    unrestorable: (k) => broken.has(order[k]!),
  };
  retentionReasons(view, input.policy ?? {}, now, (k, reasons) => {
    const i = order[k]!;
    const why = plan.unrestorable.get(i);
    const reason = reasons ? reasons.join(', ') : NO_RULE_REASON;
    plan.reasons[i] = why ? `${reason}; ${why}` : reason;
    if (reasons) return; // KEEP
    const until = lockOf(backupKeys(input.job, b, i));
    if (until) {
      plan.actions[i] = LOCKED;
      plan.reasons[i] = `${plan.reasons[i]}; locked until ${until.toISOString()}`;
      plan.lockedUntil.set(i, until);
    } else plan.actions[i] = DELETE;
  });
  keepChainsAt(links, order, plan);

  const garbage: GarbageRow[] = [];
  const cutoff = now.getTime() - input.garbageAgeMs;
  const young = `younger than ${formatDuration(input.garbageAgeMs)}: may belong to a running backup`;
  for (const o of input.orphans) {
    const base = { kind: 'orphan' as const, key: o.key, time: o.lastModified, bytes: o.size };
    const until = lockOf([o.key]);
    if (o.lastModified.getTime() > cutoff)
      garbage.push({ ...base, action: 'keep', reason: `no manifest, ${young}` });
    else if (until)
      garbage.push({
        ...base,
        action: 'locked',
        reason: `no manifest; locked until ${until.toISOString()}`,
        lockedUntil: until,
      });
    else
      garbage.push({
        ...base,
        action: 'delete',
        reason: `no manifest (failed run), ${age(o.lastModified, now)} old`,
      });
  }
  for (const u of input.incomplete) {
    const base = { kind: 'upload' as const, key: u.key, uploadId: u.uploadId, time: u.initiated, bytes: 0 };
    if (u.initiated.getTime() > cutoff)
      garbage.push({ ...base, action: 'keep', reason: `incomplete upload, ${young}` });
    else
      garbage.push({
        ...base,
        action: 'delete',
        reason: `incomplete upload started ${age(u.initiated, now)} ago`,
      });
  }

  const totals = { kept: 0, deleted: 0, locked: 0, garbage: 0, bytesFreed: 0, unrestorable: broken.size };
  for (let i = 0; i < n; i++) {
    const a = plan.actions[i];
    totals[a === KEEP ? 'kept' : a === DELETE ? 'deleted' : 'locked']++;
    if (a === DELETE) totals.bytesFreed += b.bytes[i]!;
  }
  for (const r of garbage) {
    if (r.action !== 'delete') continue;
    totals.garbage++;
    totals.bytesFreed += r.bytes;
  }
  return {
    job: input.job,
    policy: input.policy ? describePolicy(input.policy) : 'none (keep everything)',
    input: b,
    backups: plan,
    garbage,
    totals,
  };
}

function provenBy(check: BackupCheck | undefined): string | undefined {
  if (check?.outcome !== 'ok') return undefined;
  return check.kind === 'verify' ? 'verified' : 'restore-drilled';
}

function age(from: Date, now: Date): string {
  return formatDuration(Math.max(0, now.getTime() - from.getTime()));
}
