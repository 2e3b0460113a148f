/** What every job kind shares: scheduling, retries, notifications, retention and hooks. */
import { z } from 'zod';
import { isTimeZone } from '../../plan/calendar.ts';
import { cronProblem } from '../../plan/cron.ts';
import { Duration } from './common.ts';

/** Options every job kind shares: scheduling and retries (used by the daemon). */
export const JobCommon = {
  schedule: z
    .string()
    .superRefine((v, ctx) => {
      const problem = cronProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `invalid cron expression "${v}": ${problem}` });
    })
    .optional()
    .describe(
      'When the daemon runs the job: a cron expression (node-cron syntax; an optional leading seconds field, names, L, W, #, @daily). Without it the job only runs on demand',
    ),
  timezone: z
    .string()
    .refine(isTimeZone, 'unknown IANA time zone')
    .optional()
    .describe('IANA time zone the schedule is read in, e.g. Europe/Berlin (default: the daemon’s)'),
  retries: z
    .int()
    .min(0)
    .max(20)
    .default(0)
    .describe('Retries of a failed scheduled run (runs started by hand are not retried)'),
  retryDelay: Duration.prefault('1m').describe('First retry delay; doubles each attempt'),
  retryDelayMax: Duration.prefault('1h').describe('Longest delay between retries'),
  jitter: Duration.prefault(0).describe(
    'Random delay of up to this much added to each scheduled start, to spread a fleet; must be shorter than the schedule period',
  ),
  catchUp: z
    .boolean()
    .default(true)
    .describe(
      'At daemon start, run once when a scheduled time has passed since the last success (e.g. a reboot swallowed the 02:00 run) or a run was abandoned by a crash',
    ),
  enabled: z
    .boolean()
    .default(true)
    .describe('false: the daemon does not schedule the job (it can still run on demand)'),
  notify: z
    .array(z.string().min(1))
    .default([])
    .describe('Notifiers (from `notify`) told when a run starts, succeeds or fails'),
};

const keepCount = (what: string) => z.int().min(1).optional().describe(what);

/** Retention policy of a backup job (restic semantics for the counts; see plan/retention.ts). */
export const Retention = z
  .strictObject({
    last: keepCount('Keep the n newest backups'),
    hourly: keepCount('Keep the newest backup of each of the last n hours that have one'),
    daily: keepCount('… of each of the last n days'),
    weekly: keepCount('… of each of the last n ISO weeks (Monday to Sunday)'),
    monthly: keepCount('… of each of the last n months'),
    yearly: keepCount('… of each of the last n years'),
    within: Duration.optional().describe('Keep every backup taken less than this long ago, e.g. 14d'),
    timezone: z
      .string()
      .refine(isTimeZone, 'unknown IANA time zone')
      .optional()
      .describe(
        'Time zone of hour/day/week/month/year boundaries (default: the job’s timezone, else the system’s)',
      ),
  })
  .refine(
    (r) => Boolean(r.last || r.hourly || r.daily || r.weekly || r.monthly || r.yearly || r.within),
    'give at least one rule: last, hourly, daily, weekly, monthly, yearly or within',
  );
export type Retention = z.infer<typeof Retention>;

export const HookCommand = z
  .union([
    z.string().min(1),
    z.strictObject({
      command: z.string().min(1),
      timeout: Duration.optional().describe('Default: hookTimeout'),
    }),
  ])
  .describe("A shell command run on the job's host, or { command, timeout }");
export type HookCommand = z.infer<typeof HookCommand>;

/** before/after/onError hooks: run in order on the job's host (src/jobs/hooks.ts). */
export const HookFields = {
  before: z
    .array(HookCommand)
    .default([])
    .describe(
      'Commands run before the job; the first that fails (or times out) aborts the run, nothing is stored',
    ),
  afterSnapshot: z
    .array(HookCommand)
    .default([])
    .describe(
      'Commands run right after the snapshot is taken (backups: after the dumps too, before tar reads): resume what a before hook quiesced. A run that ends before that point runs them at its end',
    ),
  after: z
    .array(HookCommand)
    .default([])
    .describe('Commands run after the job, whatever the outcome ($BO_OUTCOME says which)'),
  onError: z
    .array(HookCommand)
    .default([])
    .describe(
      'Commands run when the run failed or was cancelled, before the after hooks ($BO_ERROR holds the message)',
    ),
  hookTimeout: Duration.prefault('5m').describe('Time each hook command may take before it is killed'),
};
