/**
 * The single source of truth for bo's configuration. Every option is declared here with a
 * description; types are derived with z.infer and the reference docs are generated from it.
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';
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

export const Secret = z
  .union([
    z.strictObject({ env: z.string().min(1) }),
    z.strictObject({ file: z.string().min(1) }),
    z.strictObject({ credential: z.string().min(1) }),
  ])
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
  storageClass: z.string().optional(),
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

export const StorageTarget = z.discriminatedUnion('type', [S3Storage, FilesystemStorage]);
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
  schedule: z.string().optional().describe('Cron expression (node-cron syntax, optional seconds field)'),
  timezone: z.string().optional().describe('IANA time zone for the schedule, default the daemon’s'),
  retries: z.int().min(0).max(20).default(0),
  retryDelay: Duration.prefault('1m').describe('First retry delay; doubles each attempt'),
  retryDelayMax: Duration.prefault('1h'),
  jitter: Duration.prefault(0).describe('Random delay added to each scheduled start'),
  catchUp: z
    .boolean()
    .default(true)
    .describe('Run once at daemon start when the last success is older than the schedule period'),
  enabled: z.boolean().default(true),
};

export const BackupJob = z.strictObject({
  kind: z.literal('backup'),
  ...JobCommon,
  host: z.string().min(1).describe('Host name from `hosts`, or "local"'),
  paths: z.array(z.string().min(1)).min(1).describe('Paths to back up'),
  exclude: z.array(z.string().min(1)).default([]).describe('tar --exclude patterns'),
  storage: z.string().min(1).describe('Storage name from `storage`'),
  compression: z.enum(['zstd', 'gzip', 'none']).default('zstd'),
  compressionLevel: z.int().min(1).max(19).optional(),
  encryption: z.strictObject({ recipients: z.array(AgeRecipient).min(1) }).optional(),
  oneFileSystem: z.boolean().default(false).describe('Do not cross mount points (tar --one-file-system)'),
});
export type BackupJob = z.infer<typeof BackupJob>;

const jobKinds = [BackupJob] as const;

/** A job; `kind` defaults to backup. */
export const Job = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'backup', ...v } : v),
  z.discriminatedUnion('kind', jobKinds),
);
export type Job = z.infer<typeof Job>;
export type JobKind = Job['kind'];

export const Config = z.strictObject({
  stateDir: z.string().default('/var/lib/bo').describe('Where the daemon keeps its state database'),
  storage: z.record(Name, StorageTarget).default({}),
  hosts: z.record(Name, Host).default({}),
  jobs: z.record(Name, Job).default({}),
});
export type Config = z.infer<typeof Config>;
