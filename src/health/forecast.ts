import type { Sample } from './check.ts';

export interface Forecast {
  /** Milliseconds until the filesystem is full at the current fill rate. */
  fullInMs: number;
  /** Bytes per day the usage grows. */
  bytesPerDay: number;
}

const DAY = 86_400_000;

/**
 * Linear fill-rate forecast: least-squares slope of used bytes over time from the history plus
 * the current sample. Needs at least three samples spanning an hour; a flat or shrinking usage
 * has no forecast. Pure.
 */
export function forecastFull(
  history: readonly Sample[],
  now: { at: number; used: number; avail: number },
): Forecast | undefined {
  const pts = history
    .filter((s) => typeof s.data.used === 'number' && s.at < now.at)
    .map((s) => ({ x: s.at, y: s.data.used as number }));
  pts.push({ x: now.at, y: now.used });
  if (pts.length < 3 || now.at - pts[0]!.x < 3_600_000) return undefined;
  const n = pts.length;
  const mx = pts.reduce((a, p) => a + p.x, 0) / n;
  const my = pts.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  if (den === 0) return undefined;
  const slope = num / den; // bytes per ms
  if (!(slope > 0)) return undefined;
  return { fullInMs: Math.max(0, now.avail / slope), bytesPerDay: slope * DAY };
}
