import { join } from 'node:path';
import type { Config, Host as HostConfig } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Host } from './host.ts';
import { createLocalHost } from './local.ts';

export const LOCAL_HOST = 'local';

export interface HostDeps {
  log: Logger;
}

/** The host named in a job: "local" is this machine, anything else an SSH host from `hosts`. */
export function createHost(name: string, config: Config, deps: HostDeps): Host {
  if (name === LOCAL_HOST) return createLocalHost();
  const cfg = sshHostConfig(name, config);
  return lazyHost(name, async () => (await import('./ssh.ts')).createSshHost(name, cfg, deps));
}

/**
 * A Host whose implementation loads on first use: commands that never reach a server (help,
 * status, list) do not pay for loading ssh2 (~16 MB, a tenth of a second).
 */
export function lazyHost(name: string, load: () => Promise<Host>): Host {
  let real: Promise<Host> | undefined;
  const get = () => {
    real ??= load();
    return real;
  };
  return {
    name,
    exec: async (command, opts) => (await get()).exec(command, opts),
    run: async (command, opts) => (await get()).run(command, opts),
    async close() {
      if (real) await (await real).close();
    },
  };
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
