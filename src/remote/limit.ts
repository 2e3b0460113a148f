import { CancelledError } from '../errors.ts';

/** A counting semaphore: at most `size` holders; waiters are served in order. */
export interface Limiter {
  /** Resolves with a release function once a slot is free; rejects with CancelledError on abort. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  readonly active: number;
  readonly waiting: number;
}

export function createLimiter(size: number): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];
  const grant = (): (() => void) => {
    active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      active--;
      queue.shift()?.();
    };
  };
  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(new CancelledError());
      if (active < size && queue.length === 0) return Promise.resolve(grant());
      return new Promise((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(grant());
        };
        const onAbort = () => {
          const i = queue.indexOf(wake);
          if (i >= 0) queue.splice(i, 1);
          reject(new CancelledError());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(wake);
      });
    },
  };
}
