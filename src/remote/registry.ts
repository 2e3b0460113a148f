import { join } from 'node:path';
import type { Config, Host as HostConfig } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Host } from './host.ts';
import { createLocalHost } from './local.ts';
import { createSshHost } from './ssh.ts';

export const LOCAL_HOST = 'local';

export interface HostDeps {
  log: Logger;
}

/** The host named in a job: "local" is this machine, anything else an SSH host from `hosts`. */
export function createHost(name: string, config: Config, deps: HostDeps): Host {
  if (name === LOCAL_HOST) return createLocalHost();
  return createSshHost(name, sshHostConfig(name, config), deps);
}

/** A host's config with the known_hosts default (`<stateDir>/known_hosts`) filled in. */
export function sshHostConfig(name: string, config: Config): HostConfig {
  const cfg = config.hosts[name];
  if (!cfg) {
    const known = Object.keys(config.hosts);
    throw new UsageError(`unknown host ${name}`, {
      hint: known.length > 0 ? `configured hosts: ${known.join(', ')}` : 'no hosts are configured',
    });
  }
  return { ...cfg, knownHosts: cfg.knownHosts ?? join(config.stateDir, 'known_hosts') };
}
