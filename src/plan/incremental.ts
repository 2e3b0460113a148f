/**
 * Full or incremental: the decision a backup run makes before it starts tar. Pure. An incremental
 * needs the snapshot file this machine kept for the job's newest backup, and that backup's chain
 * intact in storage; anything else gives a full, with the reason said in the log and manifest.
 */

import { formatDuration } from '../config/duration.ts';
import type { FullEvery } from '../config/schema/backup.ts';

/** What this machine kept from the job's last committed backup (see jobs/incremental-state.ts). */
export interface KeptState {
  backupId: string;
  /** What the job looked like then (paths, excludes, host, snapshot, recipients): see jobFingerprint. */
  fingerprint: string;
}

/** A backup as the planner needs it. */
export interface PlanBackup {
  id: string;
  startedAt: string;
  chain: { type: 'full' | 'incremental'; level: number; root: string } | null;
}

export interface IncrementalInput {
  setting: false | { fullEvery: FullEvery };
  forceFull: boolean;
  /** The job's newest committed backup in its storage. */
  newest: PlanBackup | undefined;
  /** Why newest's chain cannot be restored (a missing ancestor), if it cannot. */
  newestChainProblem: string | undefined;
  /** The chain's full (for fullEvery as a duration); newest itself when it is the full. */
  root: PlanBackup | undefined;
  /** Backups in newest's chain whose latest verify or drill failed. */
  failedChecks: readonly string[];
  state: KeptState | undefined;
  fingerprint: string;
  now: Date;
}

export type IncrementalPlan =
  /** A standalone archive: the job is not incremental. */
  | { type: 'standalone' }
  | { type: 'full'; reason: string }
  | { type: 'incremental'; parent: string; root: string; level: number };

export function planIncremental(i: IncrementalInput): IncrementalPlan {
  if (i.setting === false) return { type: 'standalone' };
  const full = (reason: string): IncrementalPlan => ({ type: 'full', reason });
  const n = i.newest;
  if (i.forceFull) return full('a full was asked for (--full)');
  if (!n) return full('first backup of the job');
  if (!i.state)
    return full('no incremental state on this machine (first run here, or the state directory was lost)');
  if (i.state.backupId !== n.id) {
    return full(
      `this machine's incremental state is for backup ${i.state.backupId}, but the newest backup is ${n.id} (made elsewhere, pruned, or its state was not kept)`,
    );
  }
  if (!n.chain) return full(`the newest backup ${n.id} is a standalone archive`);
  if (i.newestChainProblem) return full(i.newestChainProblem);
  if (i.failedChecks.length > 0)
    return full(`backup ${i.failedChecks[0]} in the chain failed its last verify or drill`);
  if (i.state.fingerprint !== i.fingerprint)
    return full('the job changed since the newest backup (paths, excludes, host, snapshot or encryption)');
  const every = i.setting.fullEvery;
  if ('count' in every && n.chain.level + 1 >= every.count)
    return full(`the chain holds ${n.chain.level + 1} backups (fullEvery: ${every.count})`);
  if ('ms' in every) {
    const root = i.root ?? n;
    const age = i.now.getTime() - Date.parse(root.startedAt);
    if (age >= every.ms)
      return full(`the chain's full ${root.id} is ${formatDuration(age)} old (fullEvery: ${every.text})`);
  }
  return { type: 'incremental', parent: n.id, root: n.chain.root, level: n.chain.level + 1 };
}

/**
 * What must not change within a chain: a change of paths, excludes, host or snapshot source would
 * make tar's view of "unchanged" wrong (a newly included file with an old mtime would be missed),
 * and new encryption recipients mean the old archives should not be needed any more.
 */
export function jobFingerprint(job: {
  host: string;
  paths: readonly string[];
  exclude: readonly string[];
  oneFileSystem: boolean;
  snapshot?: { provider: string; volume: string } | undefined;
  recipients: readonly string[];
}): string {
  return JSON.stringify({
    host: job.host,
    paths: job.paths,
    exclude: job.exclude,
    oneFileSystem: job.oneFileSystem,
    snapshot: job.snapshot ? `${job.snapshot.provider}:${job.snapshot.volume}` : null,
    recipients: [...job.recipients].sort(),
  });
}
