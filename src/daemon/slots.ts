import type { ActiveRun } from './active-run.ts';

/**
 * Where runs wait and run: a FIFO queue and the running set under a global and a per-host
 * limit. A run takes a slot on every host it touches (a health job on ten hosts takes ten). A
 * run with a full host is passed over, not waited on, so one busy host never holds back the
 * others.
 */
export interface Slots {
  readonly queue: readonly ActiveRun[];
  readonly running: ReadonlySet<ActiveRun>;
  enqueue(run: ActiveRun): void;
  /** Takes a run out of the queue (cancelled before it started). */
  dequeue(run: ActiveRun): void;
  /** Moves the runs that fit the limits from the queue to the running set, in queue order. */
  admit(limits: { concurrency: number; perHostConcurrency: number }): ActiveRun[];
  /** Frees a running run's slot; false when it was not running. */
  release(run: ActiveRun): boolean;
}

export function createSlots(): Slots {
  const queue: ActiveRun[] = [];
  const running = new Set<ActiveRun>();
  const perHost = new Map<string, number>();
  return {
    queue,
    running,
    enqueue: (run) => void queue.push(run),
    dequeue(run) {
      const i = queue.indexOf(run);
      if (i >= 0) queue.splice(i, 1);
    },
    admit(limits) {
      const started: ActiveRun[] = [];
      for (let i = 0; i < queue.length && running.size < limits.concurrency; ) {
        const run = queue[i]!;
        if (run.hosts.some((h) => (perHost.get(h) ?? 0) >= limits.perHostConcurrency)) {
          i++;
          continue;
        }
        queue.splice(i, 1);
        running.add(run);
        for (const h of run.hosts) perHost.set(h, (perHost.get(h) ?? 0) + 1);
        started.push(run);
      }
      return started;
    },
    release(run) {
      if (!running.delete(run)) return false;
      for (const h of run.hosts) perHost.set(h, (perHost.get(h) ?? 1) - 1);
      return true;
    },
  };
}
