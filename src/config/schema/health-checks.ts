/** `health.checks[]`: one entry shape per check (src/health/checks/). */
import { z } from 'zod';
import { unknownTag } from '../messages.ts';
import { Duration, Port } from './common.ts';

/** Hosts a health check applies to: named hosts and/or roles (either matches); neither = every host. */
const HealthTarget = {
  hosts: z.array(z.string().min(1)).optional().describe('Host names ("local" = the machine bo runs on)'),
  roles: z
    .array(z.string().min(1))
    .optional()
    .describe('Host roles; a host matching hosts or roles is checked'),
};
const Percent = z.number().min(0).max(100);
const MountFilter = {
  mounts: z.array(z.string()).optional().describe('Only these mount points (default: every real filesystem)'),
  exclude: z.array(z.string()).default([]).describe('Mount points to skip'),
};
const NetTarget = {
  address: z.string().min(1).optional().describe("Address to connect to (default: the host's address)"),
  timeout: Duration.prefault('10s').describe('Give up after this long'),
};

export const DiskCheck = z.strictObject({
  check: z.literal('disk').describe('Used space per mount, with a fill-rate forecast from the history'),
  ...HealthTarget,
  warn: Percent.default(80).describe('Used % that warns'),
  crit: Percent.default(90).describe('Used % that is critical'),
  ...MountFilter,
  forecastWarn: Duration.prefault('3d').describe('Warn when the fill rate says "full" within this'),
  forecastCrit: Duration.prefault('1d').describe('Critical when the fill rate says "full" within this'),
});
export type DiskCheck = z.infer<typeof DiskCheck>;
export const InodesCheck = z.strictObject({
  check: z.literal('inodes'),
  ...HealthTarget,
  warn: Percent.default(80),
  crit: Percent.default(90),
  ...MountFilter,
});
export type InodesCheck = z.infer<typeof InodesCheck>;
export const RaidCheck = z.strictObject({
  check: z.literal('raid').describe('mdadm arrays (/proc/mdstat)'),
  ...HealthTarget,
});
export type RaidCheck = z.infer<typeof RaidCheck>;
export const SmartCheck = z.strictObject({
  check: z.literal('smart').describe('smartctl -H per disk (needs root or sudo)'),
  ...HealthTarget,
  devices: z.array(z.string()).optional().describe('Devices to query (default: smartctl --scan)'),
});
export type SmartCheck = z.infer<typeof SmartCheck>;
export const ZfsCheck = z.strictObject({
  check: z.literal('zfs').describe('zpool status -x'),
  ...HealthTarget,
});
export type ZfsCheck = z.infer<typeof ZfsCheck>;
export const BtrfsCheck = z.strictObject({
  check: z.literal('btrfs').describe('btrfs device stats error counters per btrfs mount'),
  ...HealthTarget,
});
export type BtrfsCheck = z.infer<typeof BtrfsCheck>;
export const MailqueueCheck = z.strictObject({
  check: z.literal('mailqueue').describe('Postfix (postqueue -j) or Exim (exim -bpc) queue depth'),
  ...HealthTarget,
  warn: z.int().min(0).default(100).describe('Queued messages that warn'),
  crit: z.int().min(0).default(1000).describe('Queued messages that are critical'),
  maxAge: Duration.prefault('1d').describe('Warn when the oldest message is older (Postfix only)'),
});
export type MailqueueCheck = z.infer<typeof MailqueueCheck>;
export const LoadCheck = z.strictObject({
  check: z.literal('load'),
  ...HealthTarget,
  warn: z.number().positive().default(2).describe('5-minute load average per core that warns'),
  crit: z.number().positive().default(4).describe('5-minute load average per core that is critical'),
});
export type LoadCheck = z.infer<typeof LoadCheck>;
export const MemoryCheck = z.strictObject({
  check: z.literal('memory').describe('Memory (from MemAvailable) and swap use'),
  ...HealthTarget,
  warn: Percent.default(90),
  crit: Percent.default(95),
  swapWarn: Percent.default(50),
  swapCrit: Percent.default(80),
});
export type MemoryCheck = z.infer<typeof MemoryCheck>;
export const SystemdCheck = z.strictObject({
  check: z.literal('systemd').describe('Failed units, and units that must be active'),
  ...HealthTarget,
  units: z.array(z.string().min(1)).default([]).describe('Units that must be active, e.g. postfix.service'),
  ignore: z.array(z.string().min(1)).default([]).describe('Failed units not to report'),
});
export type SystemdCheck = z.infer<typeof SystemdCheck>;
export const NtpCheck = z.strictObject({
  check: z.literal('ntp').describe("NTP sync (timedatectl) and the clock's offset from bo's"),
  ...HealthTarget,
  warnSkew: Duration.prefault('2s'),
  critSkew: Duration.prefault('30s'),
});
export type NtpCheck = z.infer<typeof NtpCheck>;
export const UptimeCheck = z.strictObject({
  check: z.literal('uptime'),
  ...HealthTarget,
  recentReboot: Duration.prefault('1h').describe('Warn when the host booted less than this ago'),
});
export type UptimeCheck = z.infer<typeof UptimeCheck>;
/** Why `new RegExp(source)`, as the tcp check compiles `banner`, would throw. */
function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: /, '');
  }
}
export const TcpCheck = z.strictObject({
  check: z.literal('tcp').describe("Connects from bo's machine; optional banner match"),
  ...HealthTarget,
  port: Port,
  ...NetTarget,
  banner: z
    .string()
    .superRefine((v, ctx) => {
      const problem = regexProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${problem}` });
    })
    .optional()
    .describe('Regular expression the first line must match, e.g. "^220" (SMTP)'),
});
export type TcpCheck = z.infer<typeof TcpCheck>;
export const TlsCheck = z.strictObject({
  check: z.literal('tls').describe('Certificate expiry, hostname and chain, incl. SMTP STARTTLS'),
  ...HealthTarget,
  port: Port.default(443),
  ...NetTarget,
  servername: z.string().optional().describe('Name the certificate must match (default: the address)'),
  starttls: z.enum(['auto', 'smtp', 'none']).default('auto').describe('auto = SMTP STARTTLS on 25 and 587'),
  warnDays: z.int().min(0).default(21).describe('Warn when the certificate expires within this many days'),
  critDays: z.int().min(0).default(7),
  ca: z.string().optional().describe('PEM file of a private CA to trust (default: the system store)'),
});
export type TlsCheck = z.infer<typeof TlsCheck>;
export const HttpCheck = z.strictObject({
  check: z.literal('http'),
  ...HealthTarget,
  url: z
    .string()
    .refine((u) => URL.canParse(u.replaceAll('{address}', 'h')), 'not a URL')
    .describe('URL to fetch; {address} is replaced with the host address'),
  status: z.array(z.int().min(100).max(599)).optional().describe('Accepted status codes (default 200–399)'),
  contains: z.string().optional().describe('Text the body must contain'),
  warnLatency: Duration.prefault('2s'),
  timeout: Duration.prefault('10s'),
});
export type HttpCheck = z.infer<typeof HttpCheck>;
export const BackupFreshnessCheck = z.strictObject({
  check: z
    .literal('backup-freshness')
    .describe('Newest backup per job (from the manifests) against its schedule'),
  ...HealthTarget,
  jobs: z
    .array(z.string().min(1))
    .optional()
    .describe('Backup jobs (default: every one on the selected hosts)'),
  maxAge: Duration.optional().describe(
    'Age that warns (default: the schedule period plus grace); 2× is critical',
  ),
  grace: Duration.optional().describe(
    'Time a scheduled backup may take (default: half the period, at most 2h)',
  ),
  verifyMaxAge: Duration.optional().describe(
    'Warn when the last successful `bo verify` of the job is older (or failed, or never ran)',
  ),
  drillMaxAge: Duration.optional().describe(
    'Warn when the last successful restore drill of the job is older (or failed, or never ran)',
  ),
});
export type BackupFreshnessCheck = z.infer<typeof BackupFreshnessCheck>;

export const SnapshotFreshnessCheck = z.strictObject({
  check: z
    .literal('snapshot-freshness')
    .describe(
      'Last successful run of each snapshot job (and backup job with snapshot:), from the run history, against its schedule',
    ),
  ...HealthTarget,
  jobs: z
    .array(z.string().min(1))
    .optional()
    .describe('Snapshot jobs, or backup jobs with snapshot: (default: every one on the selected hosts)'),
  maxAge: Duration.optional().describe(
    'Age that warns (default: the schedule period plus grace); 2× is critical',
  ),
  grace: Duration.optional().describe('Time a scheduled run may take (default: half the period, at most 2h)'),
});
export type SnapshotFreshnessCheck = z.infer<typeof SnapshotFreshnessCheck>;

export const HealthCheckSpec = z.discriminatedUnion(
  'check',
  [
    DiskCheck,
    InodesCheck,
    RaidCheck,
    SmartCheck,
    ZfsCheck,
    BtrfsCheck,
    MailqueueCheck,
    LoadCheck,
    MemoryCheck,
    SystemdCheck,
    NtpCheck,
    UptimeCheck,
    TcpCheck,
    TlsCheck,
    HttpCheck,
    BackupFreshnessCheck,
    SnapshotFreshnessCheck,
  ],
  { error: unknownTag('check') },
);
export type HealthCheckSpec = z.infer<typeof HealthCheckSpec>;
export type CheckName = HealthCheckSpec['check'];
