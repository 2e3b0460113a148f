/**
 * A real environment for copies: a source tree on this machine (`host: local`) and four
 * storages: `fast` (a bucket on the shared moto), `near` (another bucket on the same moto: same
 * endpoint and credentials, so copies there are server-side), `cold` (a bucket on a second moto
 * server: another endpoint, so copies stream) and `nas` (a filesystem repository). Backups are
 * made with the real backup job, and the raw config can be written for the real `bo` executable.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { silentLogger } from '../../../src/log.ts';
import { createServices, type Services } from '../../../src/services.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { writeConfig } from '../../fixtures/bo.ts';
import { newBucket, type TestBucket } from '../../fixtures/buckets.ts';
import type { S3Server } from '../../fixtures/s3-server.ts';
import { runJobAt, type ShiftClock, shiftClock, wrapServices, wrapStorage } from './backup-env.ts';

export type StorageName = 'fast' | 'near' | 'cold' | 'nas';

export interface CopyEnv {
  work: string;
  src: string;
  raw: Record<string, unknown>;
  config: Config;
  clock: ShiftClock;
  services: Services;
  buckets: { fast: TestBucket; near: TestBucket; cold: TestBucket };
  storage(name: StorageName): Storage;
  /** Runs a backup job for real (its copies included) with the clock at `at`; returns the backup id. */
  backup(job: string, at?: Date): Promise<{ id: string; summary: string }>;
  /** Services whose storages are wrapped (e.g. to count reads). */
  servicesWith(wrap: (s: Storage) => Storage): Services;
  /** The config as a YAML file, for the real executable. */
  configFile(): string;
  cleanup(): Promise<void>;
}

export async function copyEnv(opts: {
  /** The second S3 server for `cold`; without it `cold` is a bucket on the shared one. */
  cold?: S3Server | undefined;
  jobs: Record<string, Record<string, unknown>>;
  /** More settings per storage, e.g. { near: { storageClass: 'STANDARD_IA' } }. */
  storage?: Partial<Record<StorageName, Record<string, unknown>>>;
  /** Buckets created with Object Lock enabled. */
  objectLock?: StorageName[];
}): Promise<CopyEnv> {
  const work = await mkdtemp(join(tmpdir(), 'bo-copies-'));
  const src = join(work, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'alpha\n');
  await writeFile(join(src, 'sub', 'b.bin'), randomBytes(40_000));
  const lock = (n: StorageName) => opts.objectLock?.includes(n) ?? false;
  const buckets = {
    fast: await newBucket({ prefix: 'bo/', objectLock: lock('fast') }),
    near: await newBucket({ prefix: 'bo/', objectLock: lock('near') }),
    cold: await newBucket({
      prefix: 'bo/',
      objectLock: lock('cold'),
      ...(opts.cold ? { server: opts.cold } : {}),
    }),
  };
  const raw = {
    stateDir: join(work, 'state'),
    storage: {
      fast: { ...buckets.fast.config, ...opts.storage?.fast },
      near: { ...buckets.near.config, ...opts.storage?.near },
      cold: { ...buckets.cold.config, ...opts.storage?.cold },
      nas: { type: 'filesystem', path: join(work, 'nas'), ...opts.storage?.nas },
    },
    jobs: Object.fromEntries(
      Object.entries(opts.jobs).map(([n, j]) => [n, { host: 'local', paths: [src], storage: 'fast', ...j }]),
    ),
  };
  const config = parseResolved(Config, raw);
  const clock = shiftClock();
  const log = silentLogger();
  const make = () => createServices({ config, log, clock });
  const services = make();
  const extra: Services[] = [];
  return {
    work,
    src,
    raw,
    config,
    clock,
    services,
    buckets,
    storage: (name) => services.storage(name),
    async backup(job, at) {
      const r = await runJobAt({ services, config, clock, log }, job, at);
      return { id: r.backupId!, summary: r.summary };
    },
    servicesWith(wrap) {
      const base = make();
      extra.push(base);
      return wrapServices(base, wrap);
    },
    configFile: () => writeConfig(raw, work),
    async cleanup() {
      await services.close();
      for (const s of extra) await s.close();
      for (const b of Object.values(buckets)) await b.destroy();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** A storage that records the keys read through it (get), to tell streamed copies from server-side ones. */
export function countingReads(inner: Storage, reads: string[]): Storage {
  return wrapStorage(inner, {
    get: async (key, o) => {
      reads.push(`${inner.name}:${key}`);
      return await inner.get(key, o);
    },
  });
}
