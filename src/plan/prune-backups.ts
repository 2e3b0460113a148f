/**
 * A job's backups as prune plans them (plan/prune.ts), one column per field: a fleet's job holds
 * 200,000 backups, and an object per backup (with its Date and keys) costs several times these
 * columns. A backup's keys are its folder (storage/layout.ts backupFolder) and its names, built
 * only for what needs them. `pruneBackups` makes the columns from objects, for small inputs.
 */
import { backupFolder } from '../storage/layout.ts';
import { type ChainColumns, linkColumns } from './chain-links.ts';

export type BackupCheck = { kind: 'verify' | 'drill'; outcome: 'ok' | 'failed' };

export interface PruneBackups {
  ids: readonly string[];
  /** When each was taken (its start), in ms since the epoch. */
  times: Float64Array;
  /** The names of its objects, its manifest's first (arrays may be shared between backups). */
  names: ReadonlyArray<readonly string[]>;
  bytes: Float64Array;
  /** An incremental's parent (null: none recorded); undefined for fulls and standalone archives. */
  parents: ReadonlyArray<string | null | undefined>;
  /** Latest verify or restore drill, by position, where one is recorded. */
  checks: ReadonlyMap<number, BackupCheck>;
}

/** One backup as an object, for small inputs (pruneBackups turns a list into columns). */
export interface PruneBackup {
  id: string;
  /** When the backup was taken. */
  time: Date;
  /** Names of its objects in its folder, the manifest first. */
  names: readonly string[];
  bytes: number;
  /** Its latest verify or restore drill, when one is recorded. */
  check?: BackupCheck | undefined;
  /** For an incremental: the backup it needs (null: none recorded). Undefined for fulls and standalone archives. */
  parent?: string | null | undefined;
}

export function pruneBackups(list: readonly PruneBackup[]): PruneBackups {
  const checks = new Map<number, BackupCheck>();
  for (const [i, b] of list.entries()) if (b.check) checks.set(i, b.check);
  return {
    ids: list.map((b) => b.id),
    times: Float64Array.from(list, (b) => b.time.getTime()),
    names: list.map((b) => b.names),
    bytes: Float64Array.from(list, (b) => b.bytes),
    parents: list.map((b) => b.parent),
    checks,
  };
}

/** The keys of the backup at position `i`, its manifest's first. */
export function* backupKeys(job: string, b: PruneBackups, i: number): Generator<string> {
  const folder = backupFolder(job, b.ids[i]!);
  for (const name of b.names[i]!) yield folder + name;
}

export function linksOf(b: PruneBackups): ChainColumns {
  return linkColumns(b.ids, b.parents);
}

/** Positions by time, newest first, ties by id descending (as planRetention orders). */
export function newestFirst(b: PruneBackups): Uint32Array {
  const order = new Uint32Array(b.ids.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const { times, ids } = b;
  return order.sort((x, y) => {
    const d = times[y]! - times[x]!;
    if (d !== 0) return d;
    const a = ids[x]!;
    const c = ids[y]!;
    return a < c ? 1 : a > c ? -1 : 0;
  });
}
