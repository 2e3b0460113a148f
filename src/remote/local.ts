// Placeholder until the local host lands.
import type { Host } from './host.ts';

export function createLocalHost(): Host {
  throw new Error('not implemented');
}
