/**
 * The single source of truth for bo's configuration: the whole Config, assembled from one file
 * per section under schema/. Every option is declared with a description; types are derived
 * with z.infer next to each schema, and the reference docs are generated from it.
 */
import { z } from 'zod';
import type { Resolved } from './resolve-secrets.ts';
import { Name } from './schema/common.ts';
import { Coordination } from './schema/coordination.ts';
import { Daemon } from './schema/daemon.ts';
import { Health } from './schema/health.ts';
import { Host } from './schema/hosts.ts';
import { Job } from './schema/jobs.ts';
import { Notifier } from './schema/notify.ts';
import { StorageTarget } from './schema/storage.ts';

export * from './schema/backup.ts';
export * from './schema/common.ts';
export * from './schema/coordination.ts';
export * from './schema/daemon.ts';
export * from './schema/dumps.ts';
export * from './schema/health.ts';
export * from './schema/health-checks.ts';
export * from './schema/hosts.ts';
export * from './schema/jobs.ts';
export * from './schema/jobs-common.ts';
export * from './schema/limits.ts';
export * from './schema/maintenance.ts';
export * from './schema/notify.ts';
export * from './schema/snapshot.ts';
export * from './schema/storage.ts';

export const Config = z.strictObject({
  stateDir: z.string().default('/var/lib/bo').describe('Where the daemon keeps its state database'),
  daemon: Daemon.prefault({}).describe(
    'The daemon: control socket, concurrency limits, shutdown and run history',
  ),
  coordination: Coordination.optional().describe(
    'Opt-in: daemons given this config form one cluster on PostgreSQL (shared queue, run history and state); absent: one daemon with its SQLite state database',
  ),
  storage: z.record(Name, StorageTarget).default({}),
  hosts: z.record(Name, Host).default({}),
  jobs: z.record(Name, Job).default({}),
  health: Health.prefault({}).describe('Health checks: what runs where, and how alerts are debounced'),
  notify: z.record(Name, Notifier).default({}).describe('Named notifiers for alerts and job pings'),
});
export type Config = Resolved<z.infer<typeof Config>>;
