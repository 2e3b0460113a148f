// Placeholder until the SSH host lands.
import type { Host as HostConfig } from '../config/schema.ts';
import type { Host } from './host.ts';
import type { HostDeps } from './registry.ts';

export function createSshHost(_name: string, _cfg: HostConfig, _deps: HostDeps): Host {
  throw new Error('not implemented');
}
