/**
 * Rate limiting for byte streams: a limiter (one per storage for uploads, one per run for the
 * source) and a Transform that passes data on no faster than the limiter allows. The limiter is
 * a virtual scheduler (GCRA): each piece of data books its transmission time at the current
 * rate, and waits until its booked time minus a small burst allowance. Averaged over a transfer
 * the rate is exact; pieces are at most 64 KiB, so the stream stays smooth at low rates.
 */
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Bytes per second; a function when the rate varies with the time (limits windows); Infinity = unlimited. */
export type ThrottleRate = number | (() => number);

export interface Limiter {
  /** Resolves once `bytes` more may pass. */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

const PIECE = 64 * 1024;

export function createLimiter(rate: ThrottleRate, opts: { burstBytes?: number } = {}): Limiter {
  const rateNow = typeof rate === 'function' ? rate : () => rate;
  const burst = opts.burstBytes ?? PIECE;
  let booked = 0; // performance.now() by which everything taken so far has been sent at the rate
  return {
    async take(bytes, signal) {
      const r = rateNow();
      if (!(r > 0) || !Number.isFinite(r)) {
        booked = 0;
        return;
      }
      const now = performance.now();
      booked = Math.max(booked, now) + (bytes / r) * 1000;
      const wait = booked - (burst / r) * 1000 - now;
      if (wait > 1) await sleep(wait, undefined, signal ? { signal } : {});
    },
  };
}

/** A pass-through stream limited by `limit` (a shared Limiter, or a rate for a limiter of its own). */
export function createThrottle(limit: Limiter | ThrottleRate): Transform {
  const limiter = typeof limit === 'object' ? limit : createLimiter(limit);
  const ac = new AbortController();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      void (async () => {
        for (let off = 0; off < chunk.length; off += PIECE) {
          const piece = chunk.subarray(off, Math.min(chunk.length, off + PIECE));
          await limiter.take(piece.length, ac.signal);
          this.push(piece);
        }
      })().then(
        () => cb(),
        (err: unknown) => cb(err as Error),
      );
    },
    destroy(err, cb) {
      ac.abort();
      cb(err);
    },
  });
}
