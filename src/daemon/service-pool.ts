import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';

/**
 * Connections per config generation. A reload brings new Services for new runs; the old ones
 * stay open for the runs still using them and are closed when the last of those ends.
 */
export interface ServicePool {
  /** The current Services, counted as in use until release(). */
  acquire(): Services;
  release(s: Services): void;
  replace(next: Services): void;
  /** Closes every generation no longer current (at shutdown, after the runs ended). */
  closeRetired(): Promise<void>;
}

export function createServicePool(initial: Services, log: Logger): ServicePool {
  let current = initial;
  const use = new Map<Services, number>();
  const retired = new Set<Services>();
  const close = (s: Services) =>
    s.close().catch((err: unknown) => log.warn({ err }, 'Could not close connections of a previous config'));
  return {
    acquire() {
      use.set(current, (use.get(current) ?? 0) + 1);
      return current;
    },
    release(s) {
      const left = (use.get(s) ?? 1) - 1;
      use.set(s, left);
      if (left === 0 && retired.delete(s)) {
        use.delete(s);
        void close(s);
      }
    },
    replace(next) {
      if (next === current) return;
      if ((use.get(current) ?? 0) === 0) void close(current);
      else retired.add(current);
      current = next;
    },
    async closeRetired() {
      await Promise.all([...retired].map(close));
      retired.clear();
    },
  };
}
