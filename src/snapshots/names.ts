/**
 * Names of the snapshots bo creates: `bo-<job>-<UTC time>`, e.g. `bo-data-20261122T020000Z`.
 * bo only ever lists, prunes or deletes snapshots whose names parse here, so a snapshot made by
 * hand or by another tool (snapper, sanoid, zfs-auto-snapshot) is never touched. Pure.
 */

/** Job names as the config allows them (schema `Name`). */
const JOB = '[A-Za-z0-9][A-Za-z0-9._-]{0,62}';
const STAMP = '(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})(\\d{2})Z';
const PATTERN = new RegExp(`^bo-(${JOB})-${STAMP}$`);

export interface ParsedName {
  job: string;
  /** When the snapshot was taken, to the second. */
  time: Date;
}

/** `bo-<job>-20261122T020000Z` for `now` (UTC, seconds). */
export function snapshotName(job: string, now: Date): string {
  if (!new RegExp(`^${JOB}$`).test(job))
    throw new TypeError(`invalid job name for a snapshot: ${JSON.stringify(job)}`);
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `bo-${job}-${stamp}`;
}

/**
 * The job and time of a name bo created, or undefined for any other name. Strict: the time
 * must be a real calendar time, and nothing may precede or follow the pattern.
 */
export function parseSnapshotName(name: string): ParsedName | undefined {
  const m = PATTERN.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(2).map(Number) as [number, number, number, number, number, number];
  const time = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    time.getUTCFullYear() !== y ||
    time.getUTCMonth() !== mo - 1 ||
    time.getUTCDate() !== d ||
    time.getUTCHours() !== h ||
    time.getUTCMinutes() !== mi ||
    time.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return { job: m[1]!, time };
}

/** True when `name` is one of `job`'s snapshots (a job "a" never matches "a-b"'s snapshots). */
export function isSnapshotOf(name: string, job: string): boolean {
  return parseSnapshotName(name)?.job === job;
}

/** The last guard before a provider deletes anything: the name must be one bo creates. */
export function assertBoName(name: string): string {
  if (!parseSnapshotName(name))
    throw new TypeError(`refusing to touch ${JSON.stringify(name)}: not a snapshot name bo creates`);
  return name;
}
