/**
 * The lock object's format and how a reader judges it. Stored as JSON at
 * `_bo/locks/<scope>/<epoch>.json` (keys: layout.ts). See lock.ts for the protocol.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { BoError } from '../errors.ts';

export const LockOwner = z.object({
  host: z.string(),
  pid: z.number().int(),
  /** Linux boot id: tells a dead process on this machine from a live one on a machine of the same name. */
  bootId: z.string().optional(),
  runId: z.string(),
  /** What holds it: "backup", "prune". */
  purpose: z.string(),
});
export type LockOwner = z.infer<typeof LockOwner>;

export const LockRecord = z.object({
  format: z.literal('bo-lock'),
  version: z.literal(1),
  scope: z.string(),
  epoch: z.number().int().positive(),
  owner: LockOwner,
  acquiredAt: z.string(),
  refreshedAt: z.string(),
  expiresAt: z.string(),
  ttlMs: z.number().int().positive(),
  released: z.boolean(),
});
export type LockRecord = z.infer<typeof LockRecord>;

export type LockStatus = 'held' | 'stale' | 'released';

/** Another run holds the lock. */
export class LockBusyError extends BoError {
  readonly holder: LockRecord | undefined;
  constructor(message: string, holder: LockRecord | undefined, hint?: string) {
    super(message, hint === undefined ? {} : { hint });
    this.holder = holder;
  }
}

/** The lock was taken over or could not be refreshed in time: the holder must stop. */
export class LockLostError extends BoError {}

let bootIdCache: string | null | undefined;
export function currentBootId(): string | undefined {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache ?? undefined;
}

export function localOwner(runId: string, purpose: string): LockOwner {
  const bootId = currentBootId();
  return { host: hostname(), pid: process.pid, ...(bootId ? { bootId } : {}), runId, purpose };
}

/**
 * True when the owner is a process of this very boot of this machine that no longer exists: its
 * lock can be taken over at once instead of after its TTL (a daemon restarted after kill -9).
 */
export function ownerIsDeadHere(owner: LockOwner): boolean {
  const boot = currentBootId();
  if (!boot || owner.bootId !== boot || owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * How a contender sees a lock record at `now` (its own clock). A lock is stale once it expired
 * more than `skewMs` ago (clocks of two machines are never exactly equal), or at once when its
 * owner is a dead process on this machine.
 */
export function lockStatus(
  rec: LockRecord,
  now: Date,
  skewMs: number,
  deadHere = ownerIsDeadHere,
): LockStatus {
  if (rec.released) return 'released';
  if (now.getTime() > Date.parse(rec.expiresAt) + skewMs) return 'stale';
  return deadHere(rec.owner) ? 'stale' : 'held';
}

export function describeOwner(o: LockOwner): string {
  return `${o.purpose} on ${o.host} (pid ${o.pid}, run ${o.runId})`;
}
