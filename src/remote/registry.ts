import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
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
  const cfg = config.hosts[name];
  if (!cfg) throw new Error(`unknown host ${name}`);
  return createSshHost(
    name,
    { ...cfg, knownHosts: cfg.knownHosts ?? join(config.stateDir, 'known_hosts') },
    deps,
  );
}
