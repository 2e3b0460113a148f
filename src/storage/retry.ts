import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  attempts: number;
  /** Delay before the second attempt; doubles for each further one. */
  delayMs: number;
  signal?: AbortSignal | undefined;
  retryable(err: unknown): boolean;
  onRetry?(err: unknown, attempt: number): void;
}

/** Runs `fn` up to `attempts` times with exponential backoff while failures are retryable. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || opts.signal?.aborted || !opts.retryable(err)) throw err;
      opts.onRetry?.(err, attempt);
      await sleep(opts.delayMs * 2 ** (attempt - 1), undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}
