/**
 * The single source of truth for bo's configuration. Every option is declared here with a
 * description; types are derived with z.infer and the reference docs are generated from it.
 */
import { z } from 'zod';
import { isTimeZone } from '../plan/calendar.ts';
import { cronProblem } from '../plan/cron.ts';
import { jitterProblem } from '../plan/jitter.ts';
import { parseLvmVolume } from '../snapshots/lvm-plan.ts';
import { normalizeAbs, within } from '../snapshots/paths.ts';
import { checkDataset } from '../snapshots/zfs-plan.ts';
import { parseDuration } from './duration.ts';
import { expected, unknownTag } from './messages.ts';
import { defaultSecretSources, resolveSecret, type SecretSources, type SecretValue } from './secret.ts';

/** Where secrets are read from while parsing; load.ts swaps it for tests. */
export const secretSources: { current: SecretSources } = { current: defaultSecretSources };

export const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'names use letters, digits, ".", "_" and "-" (max 63)');

export const Duration = z
  .union([z.string(), z.number().nonnegative()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v * 1000;
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration "${v}" (examples: 30s, 10m, 2h, 14d)` });
      return z.NEVER;
    }
    return ms;
  })
  .describe('A duration such as 30s, 10m, 2h or 14d (a bare number is seconds)');

const SECRET_SHAPES = 'secrets must be { env: NAME }, { file: PATH } or { credential: NAME }';
export const Secret = z
  .union(
    [
      z.strictObject({ env: z.string().min(1) }),
      z.strictObject({ file: z.string().min(1) }),
      z.strictObject({ credential: z.string().min(1) }),
    ],
    {
      error: (iss) =>
        iss.code === 'invalid_union'
          ? `${SECRET_SHAPES}${typeof iss.input === 'string' ? ', not a plain string' : ''}`
          : undefined,
    },
  )
  .transform((ref, ctx): SecretValue => {
    try {
      return resolveSecret(ref, secretSources.current);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  })
  .describe('A secret: { env: NAME }, { file: PATH } or { credential: NAME } (systemd LoadCredential)');

export const AgeRecipient = z
  .string()
  .regex(/^age1[02-9ac-hj-np-z]{58}$/, 'not an age X25519 recipient (age1…)')
  .describe('An age X25519 recipient public key');

export const S3Storage = z.strictObject({
  type: z.literal('s3'),
  endpoint: z.url().optional().describe('Custom endpoint for S3-compatible servers; omit for AWS'),
  region: z.string().default('us-east-1'),
  bucket: z.string().min(3).max(63),
  prefix: z.string().default('').describe('Key prefix for everything bo stores, e.g. "bo/"'),
  forcePathStyle: z.boolean().default(false),
  accessKeyId: Secret.optional(),
  secretAccessKey: Secret.optional(),
  sessionToken: Secret.optional(),
  checksums: z
    .enum(['auto', 'when-required', 'when-supported'])
    .default('auto')
    .describe('SDK checksum mode; auto = when-required for custom endpoints, when-supported for AWS'),
  storageClass: z
    .string()
    .optional()
    .describe(
      'S3 storage class of archives and dumps only (e.g. STANDARD_IA); manifests, indexes, catalogs and locks stay STANDARD',
    ),
  partConcurrency: z.int().min(1).max(16).default(4).describe('Multipart parts uploaded at once'),
  timeout: Duration.prefault('5m').describe('Per-request timeout'),
  objectLock: z
    .strictObject({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), days: z.int().min(1) })
    .optional()
    .describe('S3 Object Lock retention set on every object written (bucket must have Object Lock enabled)'),
});
export type S3Storage = z.infer<typeof S3Storage>;

export const FilesystemStorage = z.strictObject({
  type: z.literal('filesystem'),
  path: z.string().min(1).describe('Repository directory; relative paths are relative to the config file'),
});
export type FilesystemStorage = z.infer<typeof FilesystemStorage>;

export const StorageTarget = z.discriminatedUnion('type', [S3Storage, FilesystemStorage], {
  error: unknownTag('storage type'),
});
export type StorageTarget = z.infer<typeof StorageTarget>;

export const Host = z.strictObject({
  address: z.string().min(1),
  port: z.int().min(1).max(65535).default(22),
  user: z.string().min(1).default('root'),
  privateKey: z.string().min(1).describe('Path to the private key bo authenticates with'),
  passphrase: Secret.optional().describe('Passphrase of the private key'),
  hostKey: z
    .union([z.string(), z.array(z.string()).min(1)])
    .optional()
    .describe('Pinned host key fingerprint(s), "SHA256:…" as ssh-keygen -lf prints'),
  knownHosts: z
    .string()
    .optional()
    .describe(
      'OpenSSH known_hosts file holding the host key; default <stateDir>/known_hosts (see `bo hosts trust`)',
    ),
  connectTimeout: Duration.prefault('15s'),
  commandTimeout: Duration.prefault('10m').describe('A remote command silent for this long is aborted'),
  keepaliveInterval: Duration.prefault('15s'),
  sudo: z.boolean().default(false).describe('Run commands through `sudo -n`'),
  roles: z
    .array(z.string())
    .default([])
    .describe('Roles such as storage or transmission; health checks select by role'),
});
export type Host = z.infer<typeof Host>;

/** Options every job kind shares: scheduling and retries (used by the daemon). */
const JobCommon = {
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

/** Where a snapshot is taken: shared by snapshot jobs and consistent backups (src/snapshots/). */
const SnapshotVolumeFields = {
  provider: z
    .enum(['btrfs', 'lvm', 'zfs'])
    .describe('btrfs subvolume, LVM logical volume (classic CoW snapshot) or ZFS dataset'),
  volume: z
    .string()
    .min(1)
    .describe('btrfs: the subvolume path (/srv/data); lvm: VG/LV (vg0/data); zfs: the dataset (tank/data)'),
  snapshotDir: z
    .string()
    .optional()
    .describe(
      'btrfs only: where snapshots are created (default <volume>/.bo-snapshots, created as a subvolume)',
    ),
  size: z
    .string()
    .regex(
      /^(\d+(\.\d+)?%|\d+(\.\d+)?[KMGT]?)$/i,
      'a percentage of the origin ("10%") or a size ("5G", "512M")',
    )
    .optional()
    .describe(
      'lvm only: copy-on-write space for the snapshot, default "10%" of the origin LV; bo checks the VG has room',
    ),
  mountPoint: z
    .string()
    .optional()
    .describe(
      'lvm, zfs: where the volume is mounted on the host (default: looked up with findmnt / zfs get mountpoint)',
    ),
};

type VolumeFields = {
  provider: string;
  volume: string;
  snapshotDir?: string | undefined;
  size?: string | undefined;
  mountPoint?: string | undefined;
};

/** The volume's form per provider, checked with the snapshot code's own parsers so both agree. */
function checkSnapshotVolume(v: VolumeFields, ctx: z.RefinementCtx): void {
  if (v.snapshotDir !== undefined && v.provider !== 'btrfs') {
    ctx.addIssue({ code: 'custom', path: ['snapshotDir'], message: 'snapshotDir applies to btrfs only' });
  }
  if (v.size !== undefined && v.provider !== 'lvm') {
    ctx.addIssue({ code: 'custom', path: ['size'], message: 'size (CoW space) applies to lvm only' });
  }
  if (v.mountPoint !== undefined && v.provider === 'btrfs') {
    ctx.addIssue({ code: 'custom', path: ['mountPoint'], message: 'mountPoint applies to lvm and zfs only' });
  }
  const check = (field: keyof VolumeFields, parse: (value: string) => unknown) => {
    const value = v[field];
    if (typeof value !== 'string' || value === '') return;
    try {
      parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: [field], message: (err as Error).message });
    }
  };
  if (v.provider === 'btrfs') check('volume', (x) => normalizeAbs(x, 'btrfs volume'));
  if (v.provider === 'lvm') check('volume', parseLvmVolume);
  if (v.provider === 'zfs') check('volume', checkDataset);
  if (v.provider === 'btrfs') check('snapshotDir', (x) => normalizeAbs(x, 'snapshotDir'));
  if (v.provider !== 'btrfs') check('mountPoint', (x) => normalizeAbs(x, 'mountPoint'));
}

/**
 * zod skips a refinement once any part of the value failed. A cross-field rule should still run
 * when the fields it reads parsed, so that one pass reports every problem (unknown keys never
 * matter to a rule).
 */
function whenParsed(...fields: string[]): { when: (payload: z.core.ParsePayload) => boolean } {
  return {
    when: (payload) =>
      payload.issues.every(
        (i) =>
          i.code === 'unrecognized_keys' ||
          (i.path !== undefined && i.path.length > 0 && !fields.includes(String(i.path[0]))),
      ),
  };
}

/** A consistent backup reads every path from the snapshot, so each must lie on the volume. */
function checkSnapshotPaths(
  job: { paths: string[]; snapshot?: VolumeFields | undefined },
  ctx: z.RefinementCtx,
): void {
  const vol = job.snapshot;
  // lvm and zfs without mountPoint: where the volume is mounted is only known on the host.
  const live = vol?.provider === 'btrfs' ? vol.volume : vol?.mountPoint;
  if (!vol || !live?.startsWith('/')) return;
  const mount = normalizeAbs(live, 'volume');
  job.paths.forEach((p, i) => {
    if (typeof p !== 'string' || !p.startsWith('/') || p.split('/').includes('..')) return;
    if (within(normalizeAbs(p, 'path'), mount)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['paths', i],
      message: `${p} is not on the snapshot volume ${vol.volume}${live === vol.volume ? '' : ` (mounted at ${mount})`}: a consistent backup reads every path from the snapshot`,
    });
  });
}

/** A consistent backup's `snapshot:`: a volume, and what to do about what its snapshot lacks. */
export const SnapshotVolume = z
  .strictObject({
    ...SnapshotVolumeFields,
    nested: z
      .enum(['fail', 'skip'])
      .optional()
      .describe(
        'Nested btrfs subvolumes, mounts and child datasets below a path are not in the snapshot: "fail" (default) fails the backup naming them; "skip" archives them as empty directories and records a warning in the manifest',
      ),
  })
  .superRefine(checkSnapshotVolume, whenParsed('provider'));
export type SnapshotVolume = z.infer<typeof SnapshotVolume>;

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
const HookFields = {
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

const DumpClient = {
  name: Name.optional().describe('Names the object dump-<name>.sql…; default the database name, or "all"'),
  database: z
    .string()
    .min(1)
    .optional()
    .describe('Database to dump; omitted: every database (pg_dumpall, mysqldump --all-databases)'),
  hostname: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Database server: an address, or a unix socket (PostgreSQL: its directory; MySQL: the socket file); default the local socket',
    ),
  port: z.int().min(1).max(65535).optional(),
  username: z.string().min(1).optional().describe('Database user to connect as'),
  password: Secret.optional().describe('Handed to the client on stdin, never on a command line'),
  runAs: z
    .string()
    .regex(/^[a-z_][a-z0-9_.-]*$/i, 'a user name')
    .optional()
    .describe(
      'OS user the client runs as (runuser -u), e.g. postgres for peer authentication; needs root or sudo',
    ),
  bin: z
    .string()
    .min(1)
    .optional()
    .describe('Directory of the client programs, e.g. /usr/lib/postgresql/15/bin'),
  options: z.array(z.string()).default([]).describe('Extra arguments for pg_dump / pg_dumpall / mysqldump'),
};

export const PostgresDump = z.strictObject({ type: z.literal('postgres'), ...DumpClient });
export const MysqlDump = z.strictObject({ type: z.literal('mysql'), ...DumpClient });
export const CommandDump = z.strictObject({
  type: z.literal('command'),
  name: Name.describe('Names the object dump-<name>.sql…'),
  command: z
    .string()
    .min(1)
    .describe('Shell command on the host writing the dump to stdout; a non-zero exit fails the backup'),
  restore: z
    .string()
    .min(1)
    .optional()
    .describe('Shell command reading a dump on stdin, for `bo restore --dump NAME --to-host`'),
});
export const Dump = z.discriminatedUnion('type', [PostgresDump, MysqlDump, CommandDump], {
  error: unknownTag('dump type'),
});
export type Dump = z.infer<typeof Dump>;

/** A dump's object name part: its `name`, else its database, else "all". */
export function dumpName(d: Dump): string {
  return d.type === 'command' ? d.name : (d.name ?? d.database ?? 'all');
}

const Dumps = z
  .array(Dump)
  .default([])
  .superRefine(
    (dumps, ctx) => {
      if (!Array.isArray(dumps)) return; // `when` runs this after the list itself was rejected too
      // Entries that failed are left out, unless only fields the name does not depend on failed.
      const named = (i: number) =>
        !ctx.issues.some(
          (iss) =>
            iss.code !== 'unrecognized_keys' &&
            iss.path?.[0] === i &&
            (iss.path.length === 1 || ['type', 'name', 'database'].includes(String(iss.path[1]))),
        );
      const seen = new Set<string>();
      dumps.forEach((d, i) => {
        if (!named(i)) return;
        const n = dumpName(d);
        if (!Name.safeParse(n).success) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `database "${n}" is not usable as an object name: give a name`,
          });
        } else if (seen.has(n)) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `two dumps are named "${n}": give each a distinct name`,
          });
        }
        seen.add(n);
      });
    },
    { when: () => true },
  )
  .describe('Database dumps run on the host and streamed into their own objects beside the archive');

export const BackupJob = z
  .strictObject({
    kind: z.literal('backup'),
    ...JobCommon,
    host: z.string().min(1).describe('Host name from `hosts`, or "local"'),
    paths: z
      .array(z.string().min(1), { error: expected('a list of paths') })
      .min(1)
      .describe('Paths to back up'),
    exclude: z
      .array(z.string().min(1), { error: expected('a list of paths or globs') })
      .default([])
      .describe(
        'Paths or globs to leave out. "/srv/share/cache" (absolute) is anchored at the root and excludes that path and everything below it; other patterns ("*.tmp", "cache") match at any depth; * and ? never match "/"',
      ),
    storage: z.string().min(1).describe('Storage name from `storage`'),
    compression: z.enum(['zstd', 'gzip', 'none']).default('zstd'),
    compressionLevel: z.int().min(1).max(19).optional(),
    encryption: z.strictObject({ recipients: z.array(AgeRecipient).min(1) }).optional(),
    oneFileSystem: z.boolean().default(false).describe('Do not cross mount points (tar --one-file-system)'),
    retention: Retention.optional().describe(
      'Which backups `bo prune` keeps; without it prune keeps them all',
    ),
    snapshot: SnapshotVolume.optional().describe(
      'Consistent backup: snapshot this volume, archive the paths from the read-only snapshot (recorded under their original paths), then release it',
    ),
    dumps: Dumps,
    ...HookFields,
  })
  .superRefine(checkSnapshotPaths, whenParsed('paths', 'snapshot'));
export type BackupJob = z.infer<typeof BackupJob>;

/** Hosts a health check applies to: named hosts and/or roles (either matches); neither = every host. */
const HealthTarget = {
  hosts: z.array(z.string().min(1)).optional().describe('Host names ("local" = the machine bo runs on)'),
  roles: z
    .array(z.string().min(1))
    .optional()
    .describe('Host roles; a host matching hosts or roles is checked'),
};
const Percent = z.number().min(0).max(100);
const Port = z.int().min(1).max(65535);
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

const NotifyEvents = z
  .array(z.enum(['health', 'job-start', 'job-success', 'job-failed']))
  .min(1)
  .describe('What is sent: health alerts, and job runs that start, succeed or fail');
const UrlOrSecret = z.union([z.url(), Secret]);

export const WebhookNotifier = z.strictObject({
  type: z.literal('webhook'),
  url: UrlOrSecret.describe('Where to POST; chat webhook URLs hold a token, so prefer { env } or { file }'),
  format: z
    .enum(['json', 'slack'])
    .default('json')
    .describe('json: a bo event document; slack: {"text": …} (Slack, Mattermost, Rocket.Chat)'),
  headers: z.record(z.string(), Secret).default({}).describe('Extra request headers, e.g. Authorization'),
  events: NotifyEvents.default(['health', 'job-failed']),
  timeout: Duration.prefault('10s'),
});
export type WebhookNotifier = z.infer<typeof WebhookNotifier>;
export const EmailNotifier = z.strictObject({
  type: z.literal('email'),
  host: z.string().min(1).describe('SMTP server'),
  port: Port.default(587),
  secure: z
    .boolean()
    .default(false)
    .describe('TLS from the first byte (port 465); else STARTTLS when offered'),
  requireTls: z.boolean().default(false).describe('Refuse to send unless STARTTLS succeeds'),
  user: z.string().optional(),
  password: Secret.optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  events: NotifyEvents.default(['health', 'job-failed']),
  timeout: Duration.prefault('30s'),
});
export type EmailNotifier = z.infer<typeof EmailNotifier>;
export const HealthchecksNotifier = z
  .strictObject({
    type: z.literal('healthchecks'),
    url: UrlOrSecret.optional().describe(
      'Ping URL (healthchecks.io style): success → URL, start → URL/start, failure → URL/fail, each with the run id as rid',
    ),
    urls: z
      .strictObject({
        start: UrlOrSecret.optional().describe('Pinged when a run starts (none when absent)'),
        success: UrlOrSecret.describe('Pinged when a run succeeds'),
        fail: UrlOrSecret.optional().describe('Pinged when a run fails (none when absent)'),
      })
      .optional()
      .describe(
        'Instead of url: an explicit URL per event (other monitors, or separate checks), used as given',
      ),
    timeout: Duration.prefault('10s'),
  })
  .refine((n) => (n.url === undefined) !== (n.urls === undefined), {
    message: 'give either url (the base ping URL) or urls (start/success/fail), not both',
  });
export type HealthchecksNotifier = z.infer<typeof HealthchecksNotifier>;
export const Notifier = z.discriminatedUnion('type', [WebhookNotifier, EmailNotifier, HealthchecksNotifier], {
  error: unknownTag('notifier type'),
});
export type Notifier = z.infer<typeof Notifier>;

export const HealthJob = z.strictObject({
  kind: z.literal('health'),
  ...JobCommon,
  hosts: z.array(z.string().min(1)).optional().describe('Hosts to check (default: every host)'),
  roles: z.array(z.string().min(1)).optional().describe('Only hosts with one of these roles'),
});
export type HealthJob = z.infer<typeof HealthJob>;

/** A share such as "10%" (a bare number is percent), parsed to a fraction in (0, 1]. */
const SampleRate = z
  .union([z.string().regex(/^\d+(\.\d+)?%$/, 'a percentage such as "10%"'), z.number()])
  .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1))) / 100)
  .refine((v) => v > 0 && v <= 1, 'a share above 0% and at most 100%');
const BackupTargets = {
  jobs: z.array(Name).min(1).optional().describe('Backup jobs to act on (default: every backup job)'),
};

export const PruneJob = z.strictObject({
  kind: z.literal('prune'),
  ...JobCommon,
  ...BackupTargets,
  garbageAge: Duration.prefault('24h').describe(
    'Incomplete uploads and objects without a manifest (failed runs) older than this are removed',
  ),
});
export type PruneJob = z.infer<typeof PruneJob>;

export const VerifyJob = z.strictObject({
  kind: z.literal('verify'),
  ...JobCommon,
  ...BackupTargets,
  sample: SampleRate.optional().describe(
    'Verify this share of each job’s backups, least recently verified first and always the newest (default: all)',
  ),
  identity: Secret.optional().describe(
    'age identity (AGE-SECRET-KEY-1…) to check the content of encrypted backups; without it only ciphertext hashes are checked',
  ),
});
export type VerifyJob = z.infer<typeof VerifyJob>;

export const DrillJob = z.strictObject({
  kind: z.literal('drill'),
  ...JobCommon,
  ...BackupTargets,
  to: z
    .string()
    .optional()
    .describe('Local directory the scratch restore goes under (default: <stateDir>/drill)'),
  toHost: z
    .string()
    .regex(/^[^:]+:\/.*$/, 'HOST:/absolute/dir')
    .optional()
    .describe('Restore onto this host instead, under HOST:/dir, with its own tar'),
  sample: SampleRate.optional().describe('Restore only this share of the files, at most 256 (default: all)'),
  identity: Secret.optional().describe('age identity for encrypted backups'),
});
export type DrillJob = z.infer<typeof DrillJob>;

/** Takes a snapshot named bo-<job>-<UTC time> and prunes this job's snapshots by `retention`. */
export const SnapshotJob = z
  .strictObject({
    kind: z.literal('snapshot'),
    ...JobCommon,
    host: z.string().min(1).describe('Host name from `hosts`, or "local"'),
    ...SnapshotVolumeFields,
    retention: Retention.optional().describe(
      "Which of this job's snapshots are kept; without it none are pruned",
    ),
    ...HookFields,
  })
  .superRefine(checkSnapshotVolume, whenParsed('provider'));
export type SnapshotJob = z.infer<typeof SnapshotJob>;

const jobKinds = [BackupJob, HealthJob, PruneJob, VerifyJob, DrillJob, SnapshotJob] as const;

/** A job; `kind` defaults to backup. */
export const Job = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'backup', ...v } : v),
  z.discriminatedUnion('kind', jobKinds, { error: unknownTag('job kind') }).superRefine((job, ctx) => {
    const problem = jitterProblem(job);
    if (problem) ctx.addIssue({ code: 'custom', path: ['jitter'], message: problem });
  }),
);
export type Job = z.infer<typeof Job>;
export type JobKind = Job['kind'];

/** The long-running service, `bo daemon` (src/daemon/). */
export const Daemon = z.strictObject({
  socket: z
    .string()
    .min(1)
    .default('/run/bo/bo.sock')
    .describe(
      'Control socket (unix, mode 0660) through which `bo status`, `bo jobs` and `bo backup now` talk to the daemon; members of its group may use it',
    ),
  concurrency: z
    .int()
    .min(1)
    .max(256)
    .default(4)
    .describe('Runs at once across all hosts; further runs wait in the queue'),
  perHostConcurrency: z
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe('Runs at once against one host (prune, verify and health jobs only count globally)'),
  shutdownGrace: Duration.prefault('60s').describe(
    'On SIGTERM/SIGINT, how long running jobs may finish before they are cancelled (keep systemd TimeoutStopSec above it)',
  ),
  historyRetention: z
    .strictObject({
      maxAge: Duration.prefault('90d').describe('Runs older than this leave the run history'),
      perJob: z.int().min(1).default(1000).describe('At most this many runs per job are kept'),
    })
    .prefault({})
    .describe(
      'Bounds on the run history in the state database; the newest successful run of each job is always kept',
    ),
  http: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Off by default: unlike the control socket, a TCP port on loopback is open to every local user (the page is read-only, but shows hosts, jobs and problems)',
        ),
      listen: z
        .string()
        .regex(/^(\[[0-9A-Fa-f:.]+\]|[^:\s]+):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:9810 or [::1]:9810')
        .default('127.0.0.1:9810')
        .describe(
          'Address of the page; it has no authentication, so keep it on loopback (port 0 picks a free one)',
        ),
    })
    .prefault({})
    .describe('The latest health report as a web page (/), Prometheus metrics (/metrics) and /healthz'),
});
export type Daemon = z.infer<typeof Daemon>;

export const Config = z.strictObject({
  stateDir: z.string().default('/var/lib/bo').describe('Where the daemon keeps its state database'),
  daemon: Daemon.prefault({}).describe(
    'The daemon: control socket, concurrency limits, shutdown and run history',
  ),
  storage: z.record(Name, StorageTarget).default({}),
  hosts: z.record(Name, Host).default({}),
  jobs: z.record(Name, Job).default({}),
  health: Health.prefault({}).describe('Health checks: what runs where, and how alerts are debounced'),
  notify: z.record(Name, Notifier).default({}).describe('Named notifiers for alerts and job pings'),
});
export type Config = z.infer<typeof Config>;
