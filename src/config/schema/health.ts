/** The `health:` section and the health job that runs it on a schedule. */
import { z } from 'zod';
import { Duration } from './common.ts';
import { HealthCheckSpec } from './health-checks.ts';
import { JobCommon } from './jobs-common.ts';

export const Health = z.strictObject({
  defaults: z
    .boolean()
    .default(true)
    .describe(
      'Run load, memory, disk, inodes, systemd, ntp and uptime on every host, backup-freshness on every backup job and snapshot-freshness on every snapshot job (and backup job with snapshot:); an entry in checks replaces the default for the hosts it selects',
    ),
  checks: z
    .array(HealthCheckSpec)
    .default([])
    .describe(
      'Which checks run where. For one check on one host, an entry naming the host beats one naming its role beats one naming neither; then the later entry wins. tcp, tls and http entries all apply',
    ),
  concurrency: z.int().min(1).max(512).default(16).describe('Hosts checked at once'),
  hostTimeout: Duration.prefault('30s').describe('Time allowed for all the checks of one host'),
  debounce: z.int().min(1).max(100).default(2).describe('Consecutive results before a state change alerts'),
  reminder: Duration.prefault('4h').describe('Repeat the alert while a check stays critical (0 = never)'),
  notify: z.array(z.string().min(1)).default([]).describe('Notifiers (from `notify`) for health alerts'),
  history: Duration.prefault('30d').describe('How long results and reports stay in the state database'),
});
export type Health = z.infer<typeof Health>;

export const HealthJob = z.strictObject({
  kind: z.literal('health'),
  ...JobCommon,
  hosts: z.array(z.string().min(1)).optional().describe('Hosts to check (default: every host)'),
  roles: z.array(z.string().min(1)).optional().describe('Only hosts with one of these roles'),
});
export type HealthJob = z.infer<typeof HealthJob>;
