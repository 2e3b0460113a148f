/**
 * Jitter must stay below the schedule period: a start delayed by a whole period or more lands
 * on (or past) the next scheduled time, so the next start would be skipped as an overlap and
 * the job would silently run less often than its schedule says. Pure.
 */
import { compileCron } from './cron.ts';

/** Fire times looked at to find the shortest gap (irregular schedules, e.g. weekdays only). */
const SAMPLES = 64;

/** The shortest gap between consecutive fire times from `from` on; undefined when it fires < 2 times. */
export function shortestPeriodMs(
  expression: string,
  timeZone: string | undefined,
  from: Date,
): number | undefined {
  const cron = compileCron(expression, timeZone);
  let prev = cron.next(from);
  let shortest: number | undefined;
  for (let i = 0; prev && i < SAMPLES; i++) {
    const next = cron.next(prev);
    if (!next) break;
    const gap = next.getTime() - prev.getTime();
    if (shortest === undefined || gap < shortest) shortest = gap;
    prev = next;
  }
  return shortest;
}

/** Why `jitterMs` does not fit the schedule, or undefined when it does (or cannot be judged). */
export function jitterProblem(
  job: { schedule?: string | undefined; timezone?: string | undefined; jitter: number },
  from: Date = new Date(),
): string | undefined {
  if (!job.schedule || job.jitter <= 0) return undefined;
  let period: number | undefined;
  try {
    period = shortestPeriodMs(job.schedule, job.timezone, from);
  } catch {
    return undefined; // an invalid schedule is reported at `schedule`
  }
  if (period === undefined || job.jitter < period) return undefined;
  return `jitter (${human(job.jitter)}) must be shorter than the schedule's period (${human(period)}): a start delayed that long runs into the next scheduled time`;
}

function human(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
