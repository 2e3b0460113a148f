import type { Status } from './types.ts';

/** Higher is worse (used %, load, queue depth): crit at or above `crit`, warn at or above `warn`. */
export function gradeAbove(value: number, warn: number | undefined, crit: number | undefined): Status {
  if (crit !== undefined && value >= crit) return 'crit';
  if (warn !== undefined && value >= warn) return 'warn';
  return 'ok';
}

/** Lower is worse (days to expiry, time to full): crit at or below `crit`, warn at or below `warn`. */
export function gradeBelow(value: number, warn: number | undefined, crit: number | undefined): Status {
  if (crit !== undefined && value <= crit) return 'crit';
  if (warn !== undefined && value <= warn) return 'warn';
  return 'ok';
}

/** Describes the threshold a status came from, for messages: "crit ≥ 90%". */
export function thresholdText(
  status: Status,
  t: { warn?: number; crit?: number; below?: boolean },
  unit = '',
): string {
  const op = t.below ? '≤' : '≥';
  if (status === 'crit' && t.crit !== undefined) return `crit ${op} ${t.crit}${unit}`;
  if (status === 'warn' && t.warn !== undefined) return `warn ${op} ${t.warn}${unit}`;
  if (t.warn !== undefined) return `warn ${op} ${t.warn}${unit}`;
  return '';
}
