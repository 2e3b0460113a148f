import { errorMessage } from '../errors.ts';
import { LOCK_ROOT, parseLockEpochKey } from './layout.ts';
import { currentLock } from './lock.ts';
import type { LockRecord, LockStatus } from './lock-record.ts';
import type { Storage } from './storage.ts';

export interface LockView {
  scope: string;
  epoch: number;
  key: string;
  status: LockStatus | 'unreadable';
  record?: LockRecord;
  error?: string;
}

/** The current (highest-epoch) lock of every scope in a storage target, for `bo locks`. */
export async function listLocks(
  storage: Storage,
  now: Date,
  opts: { signal?: AbortSignal; skewMs?: number } = {},
): Promise<LockView[]> {
  const top = new Map<string, { key: string; epoch: number }>();
  for await (const info of storage.list(LOCK_ROOT, opts.signal ? { signal: opts.signal } : {})) {
    const p = parseLockEpochKey(info.key);
    if (!p) continue;
    const seen = top.get(p.scope);
    if (!seen || seen.epoch < p.epoch) top.set(p.scope, { key: info.key, epoch: p.epoch });
  }
  const views: LockView[] = [];
  for (const [scope, t] of [...top].sort(([a], [b]) => a.localeCompare(b))) {
    try {
      // Read through the same reader as contenders, so `bo locks` judges locks as they do.
      const cur = await currentLock(storage, scope, now, opts);
      if (!cur) continue; // removed meanwhile
      const { epoch, key, record } = cur;
      if (!record)
        views.push({
          scope,
          epoch,
          key,
          status: 'unreadable',
          error: 'not a lock record (or removed meanwhile)',
        });
      else views.push({ scope, epoch, key, status: cur.status, record });
    } catch (err) {
      views.push({ scope, ...t, status: 'unreadable', error: errorMessage(err) });
    }
  }
  return views;
}
