import { createTask } from 'node-cron';

/**
 * The longest gap between consecutive runs of a cron schedule (over its next 8 runs): how old
 * the newest backup may get before it is overdue. Weekday-only schedules give 3 days. Undefined
 * for an invalid expression.
 */
export function schedulePeriodMs(expression: string, timezone?: string): number | undefined {
  let task: ReturnType<typeof createTask> | undefined;
  try {
    task = createTask(expression, () => {}, timezone ? { timezone } : {});
    const runs = task.getNextRuns(8).map((d) => d.getTime());
    let gap = 0;
    for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i]! - runs[i - 1]!);
    return gap > 0 ? gap : undefined;
  } catch {
    return undefined;
  } finally {
    void task?.destroy();
  }
}

const HOUR = 3_600_000;

/**
 * How old the newest good result of a scheduled job (a backup, a snapshot) may get before it is
 * overdue: `maxAge`, else the schedule period plus a grace for the run itself (`grace`, default
 * half the period, at most 2 h). Undefined with neither a maxAge nor a valid schedule.
 */
export function overdueAfterMs(
  spec: { maxAge?: number | undefined; grace?: number | undefined },
  schedule: string | undefined,
  timezone: string | undefined,
): number | undefined {
  if (spec.maxAge !== undefined) return spec.maxAge;
  const period = schedule ? schedulePeriodMs(schedule, timezone) : undefined;
  if (period === undefined) return undefined;
  return period + (spec.grace ?? Math.min(period / 2, 2 * HOUR));
}

/** The thresholds of a freshness result, in seconds: overdue warns, twice overdue is critical. */
export function overdueThreshold(limitMs: number | undefined): { warn: number; crit: number } | undefined {
  return limitMs === undefined
    ? undefined
    : { warn: Math.round(limitMs / 1000), crit: Math.round((2 * limitMs) / 1000) };
}
