import type { Clock } from '../../../src/clock.ts';

export interface FakeClock extends Clock {
  /** Moves time forward, firing due sleeps in order and letting promises settle after each. */
  advance(ms: number): Promise<void>;
  /** Lets pending promise callbacks run without moving time. */
  settle(): Promise<void>;
  /** Sleeps not yet due. */
  pending(): number;
}

interface Timer {
  at: number;
  seq: number;
  resolve(): void;
}

/** A clock that only moves when the test says so: nothing waits on real minutes. */
export function fakeClock(start: string | Date): FakeClock {
  let t = new Date(start).getTime();
  let seq = 0;
  const timers = new Set<Timer>();
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return {
    now: () => new Date(t),
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer: Timer = {
          at: t + Math.max(0, ms),
          seq: seq++,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          timers.delete(timer);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        timers.add(timer);
      });
    },
    async advance(ms) {
      const target = t + ms;
      await settle();
      for (;;) {
        const due = [...timers].filter((x) => x.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
        if (!due) break;
        timers.delete(due);
        t = Math.max(t, due.at);
        due.resolve();
        await settle();
      }
      t = target;
      await settle();
    },
    settle,
    pending: () => timers.size,
  };
}
