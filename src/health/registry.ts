import type { CheckName } from '../config/schema.ts';
import type { HealthCheck } from './check.ts';
import { backupFreshnessCheck } from './checks/backup-freshness.ts';
import { btrfsCheck } from './checks/btrfs.ts';
import { diskCheck } from './checks/disk.ts';
import { httpCheck } from './checks/http.ts';
import { inodesCheck } from './checks/inodes.ts';
import { loadCheck } from './checks/load.ts';
import { mailqueueCheck } from './checks/mailqueue.ts';
import { memoryCheck } from './checks/memory.ts';
import { ntpCheck } from './checks/ntp.ts';
import { raidCheck } from './checks/raid.ts';
import { smartCheck } from './checks/smart.ts';
import { snapshotFreshnessCheck } from './checks/snapshot-freshness.ts';
import { systemdCheck } from './checks/systemd.ts';
import { tcpCheck } from './checks/tcp.ts';
import { tlsCheck } from './checks/tls.ts';
import { uptimeCheck } from './checks/uptime.ts';
import { zfsCheck } from './checks/zfs.ts';

type Registry = { [N in CheckName]: HealthCheck<N> };

/** Every health check bo knows, by the `check:` name used in the config. */
export const healthChecks: Registry = {
  disk: diskCheck,
  inodes: inodesCheck,
  raid: raidCheck,
  smart: smartCheck,
  zfs: zfsCheck,
  btrfs: btrfsCheck,
  mailqueue: mailqueueCheck,
  load: loadCheck,
  memory: memoryCheck,
  systemd: systemdCheck,
  ntp: ntpCheck,
  uptime: uptimeCheck,
  tcp: tcpCheck,
  tls: tlsCheck,
  http: httpCheck,
  'backup-freshness': backupFreshnessCheck,
  'snapshot-freshness': snapshotFreshnessCheck,
};

/** Checks that run on every host unless the config says otherwise (`health.defaults`). */
export const DEFAULT_HOST_CHECKS = ['load', 'memory', 'disk', 'inodes', 'systemd', 'ntp', 'uptime'] as const;

/** Checks that measure a host as a whole: one entry per host applies (the most specific wins). */
export function isSingleton(name: CheckName): boolean {
  return name !== 'tcp' && name !== 'tls' && name !== 'http';
}

export function checkFor<N extends CheckName>(name: N): HealthCheck<N> {
  return healthChecks[name] as HealthCheck<N>;
}
