/** Bandwidth and load limits: `storage.<name>.limits` (uploads) and `hosts.<name>.limits` (the source). */
import { z } from 'zod';
import { isTimeZone } from '../../plan/calendar.ts';
import { parseWindow } from '../../plan/windows.ts';
import { ByteRate } from './common.ts';

const Window = z.string().superRefine((v, ctx) => {
  const w = parseWindow(v);
  if (typeof w === 'string') ctx.addIssue({ code: 'custom', message: w });
});

const RateRule = z.strictObject({
  rate: ByteRate,
  when: z
    .array(Window)
    .min(1)
    .optional()
    .describe('Windows the rate applies in, e.g. ["Mon-Fri 08:00-19:00"]; without it, always'),
});

/** A rate, `{ rate, when }`, or a list of them (the first in force applies; none in force: unlimited). */
export const RateLimit = z
  .union([ByteRate, RateRule, z.array(RateRule).min(1)])
  .transform((v) => (Array.isArray(v) ? v : typeof v === 'number' ? [{ rate: v }] : [v]))
  .describe(
    '20MiB/s (always), { rate: 20MiB/s, when: ["Mon-Fri 08:00-19:00"] } (only then, unlimited otherwise), or a list of those: the first in force applies',
  );
export type RateLimit = z.infer<typeof RateLimit>;

const timezone = z
  .string()
  .refine(isTimeZone, 'unknown IANA time zone')
  .optional()
  .describe("Time zone of the windows (default: the system's)");

export const StorageLimits = z.strictObject({
  upload: RateLimit.optional().describe(
    'Upload bandwidth to this storage, shared by every backup and copy writing to it at once (server-side copies use none)',
  ),
  timezone,
});
export type StorageLimits = z.infer<typeof StorageLimits>;

export const HostLimits = z.strictObject({
  read: RateLimit.optional().describe(
    "Rate bo reads a backup's archive stream from this host at (tar slows down to match, so the server's disks stay usable)",
  ),
  nice: z
    .boolean()
    .default(true)
    .describe(
      "Run the server's tar and compressor under `nice -n 19` and `ionice -c 2 -n 7` (where the server has them)",
    ),
  timezone,
});
export type HostLimits = z.infer<typeof HostLimits>;
