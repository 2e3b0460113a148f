import { formatDuration, parseDuration } from '../config/duration.ts';
import { UsageError } from '../errors.ts';
import type { ThawOptions } from '../jobs/tiers.ts';
import type { CliContext } from './context.ts';

/** --no-wait and the --tier-* options (a restore from an archive tier). */
export function tierOptions(
  opts: { wait?: boolean; tierSpeed?: string; tierDays?: string; tierPoll?: string },
  ctx: CliContext,
): ThawOptions {
  const speed = opts.tierSpeed ?? 'Standard';
  if (speed !== 'Expedited' && speed !== 'Standard' && speed !== 'Bulk')
    throw new UsageError(`--tier-speed must be Expedited, Standard or Bulk, got "${speed}"`);
  const days = Number(opts.tierDays ?? '3');
  if (!Number.isInteger(days) || days < 1)
    throw new UsageError(`--tier-days wants a whole number of days, got "${opts.tierDays}"`);
  const pollMs = parseDuration(opts.tierPoll ?? '5m');
  if (pollMs === undefined || pollMs <= 0)
    throw new UsageError(`--tier-poll wants a duration (30s, 5m), got "${opts.tierPoll}"`);
  return {
    speed,
    days,
    wait: opts.wait !== false,
    pollMs,
    signal: ctx.signal,
    clock: ctx.clock,
    log: ctx.log,
    onWait: (n, since) =>
      ctx.out.status(
        `waiting for S3 to restore ${n} object(s) from the archive tier (${formatDuration(since)} so far)`,
      ),
  };
}
