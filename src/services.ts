import type { Clock } from './clock.ts';
import type { Config } from './config/schema.ts';
import { UsageError } from './errors.ts';
import type { SharedHealthState } from './health/service.ts';
import type { IncrementalStore } from './jobs/incremental-state.ts';
import type { Logger } from './log.ts';
import type { Host } from './remote/host.ts';
import { createHost } from './remote/registry.ts';
import { createStorage } from './storage/registry.ts';
import type { Storage } from './storage/storage.ts';

/** Connections shared by the jobs of one process: one Storage per target, one Host per server. */
export interface Services {
  config: Config;
  log: Logger;
  clock: Clock;
  storage(name: string): Storage;
  host(name: string): Host;
  /**
   * Where backups keep their incremental-chain state: undefined for the files in stateDir
   * (jobs/incremental-state.ts); a cluster's database (cluster/incremental-store.ts).
   */
  incremental?: (() => IncrementalStore) | undefined;
  /** Health alert states and outbox shared with other daemons (a cluster's); undefined: local only. */
  healthState?: SharedHealthState | undefined;
  close(): Promise<void>;
}

export function createServices(opts: { config: Config; log: Logger; clock: Clock }): Services {
  const storages = new Map<string, Storage>();
  const hosts = new Map<string, Host>();
  return {
    ...opts,
    storage(name) {
      let s = storages.get(name);
      if (!s) {
        const cfg = opts.config.storage[name];
        if (!cfg) throw unknownStorage(name, Object.keys(opts.config.storage));
        s = createStorage(name, cfg, { log: opts.log });
        storages.set(name, s);
      }
      return s;
    },
    host(name) {
      let h = hosts.get(name);
      if (!h) {
        h = createHost(name, opts.config, { log: opts.log });
        hosts.set(name, h);
      }
      return h;
    },
    async close() {
      await Promise.allSettled([...storages.values()].map((s) => s.close()));
      await Promise.allSettled([...hosts.values()].map((h) => h.close()));
    },
  };
}

/** A storage name from the command line (`--storage`) that the config does not define. */
function unknownStorage(name: string, known: string[]): UsageError {
  return new UsageError(`unknown storage "${name}"`, {
    hint: known.length > 0 ? `configured storage: ${known.join(', ')}` : 'no storage is configured',
  });
}
