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
