/**
 * Backups in an archive tier (S3 GLACIER, DEEP_ARCHIVE, Intelligent-Tiering's archive tiers):
 * only archives and dumps are ever placed there (PutOptions.bulk), so listing, locks, prune and
 * `bo ls` never wait. Reading an archive does: restore asks S3 for a temporary readable copy of
 * each object it needs (RestoreObject), then waits for them, or says when to come back; a drill
 * or verify says plainly that it cannot run without that.
 */
import type { BackupRef } from '../catalog/backups.ts';
import { volumesOf } from '../catalog/manifest.ts';
import type { Clock } from '../clock.ts';
import { formatDuration } from '../config/duration.ts';
import { BoError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { objectKey } from '../storage/layout.ts';
import type { RestoreRequestOptions, Storage, TierState } from '../storage/storage.ts';

export interface ColdObject {
  key: string;
  tier: TierState;
}

/** The objects of `refs` (archives, and dumps if asked) that cannot be read yet: archived or restoring. */
export async function coldObjects(
  storage: Storage,
  refs: readonly BackupRef[],
  opts: { archives?: boolean; dumps?: readonly string[] } = { archives: true },
): Promise<ColdObject[]> {
  const keys = refs.flatMap((r) => [
    ...(opts.archives === false ? [] : volumesOf(r.manifest.archive).map((v) => objectKey(r, v.key))),
    ...r.manifest.dumps
      .filter((d) => opts.dumps?.includes(d.name))
      .flatMap((d) => volumesOf(d.object).map((v) => objectKey(r, v.key))),
  ]);
  const out: ColdObject[] = [];
  for (const key of keys) {
    const tier = (await storage.stat(key))?.tier;
    if (tier && tier.state !== 'restored') out.push({ key, tier });
  }
  return out;
}

/** How long S3 says a retrieval takes, for messages. */
const TYPICAL: Record<RestoreRequestOptions['speed'], string> = {
  Expedited: '1–5 minutes (GLACIER only)',
  Standard: '3–5 hours (DEEP_ARCHIVE: within 12 hours)',
  Bulk: '5–12 hours (DEEP_ARCHIVE: within 48 hours)',
};

/** A drill or verify against archived objects: what is wrong and what to do, in plain words. */
export function coldError(
  storage: Storage,
  cold: readonly ColdObject[],
  what: string,
  action: string,
): BoError {
  const cls = [...new Set(cold.map((c) => c.tier.storageClass))].join(', ');
  return new BoError(
    `${action} of ${what} cannot run without a tier restore: ${cold.length} object(s) in storage ${storage.name} are in ${cls}, which S3 must restore before they can be read (first ${cold[0]!.key}). \`bo restore ${what} --from ${storage.name}\` requests the tier restore (Standard retrieval: ${TYPICAL.Standard}) and restores once it is done; or ${action} a storage that is not an archive tier`,
  );
}

export interface ThawOptions extends Omit<RestoreRequestOptions, 'signal'> {
  /** Wait for the restores (polling every `pollMs`), or stop after requesting them. */
  wait: boolean;
  pollMs: number;
  signal: AbortSignal;
  clock: Clock;
  log: Logger;
  /** Told while waiting: how many objects are still being restored. */
  onWait?: (pending: number, since: number) => void;
}

/**
 * Requests a tier restore of every cold object and waits until all are readable. With `wait:
 * false` it throws after requesting, saying when to try again (nothing is restored yet).
 */
export async function thaw(storage: Storage, cold: readonly ColdObject[], o: ThawOptions): Promise<void> {
  if (cold.length === 0) return;
  for (const c of cold) {
    if (c.tier.state === 'archived')
      await storage.requestRestore(c.key, { days: o.days, speed: o.speed, signal: o.signal });
  }
  const cls = [...new Set(cold.map((c) => c.tier.storageClass))].join(', ');
  o.log.info(
    { storage: storage.name, objects: cold.length, speed: o.speed, days: o.days },
    'Tier restore requested',
  );
  if (!o.wait) {
    throw new BoError(
      `requested a tier restore of ${cold.length} object(s) from ${cls} in storage ${storage.name} (${o.speed} retrieval, typically ${TYPICAL[o.speed]}); nothing was restored yet`,
      { hint: 'run the same command again once they are ready; they stay readable for --tier-days days' },
    );
  }
  const started = o.clock.now().getTime();
  let pending = [...cold];
  for (;;) {
    const still: ColdObject[] = [];
    for (const c of pending) {
      const tier = (await storage.stat(c.key))?.tier;
      if (tier && tier.state !== 'restored') still.push({ key: c.key, tier });
    }
    pending = still;
    if (pending.length === 0) break;
    const since = o.clock.now().getTime() - started;
    o.onWait?.(pending.length, since);
    o.log.info({ pending: pending.length, waited: formatDuration(since) }, 'Waiting for the tier restore');
    await o.clock.sleep(o.pollMs, o.signal);
  }
  o.log.info({ objects: cold.length }, 'Tier restore finished');
}
