/**
 * A real environment for prune/verify/drill tests: a source tree on this machine, `host: local`,
 * filesystem storage or a fresh S3 bucket, real backups made with the real backup job. The clock
 * can be shifted so backups get distinct days without waiting for them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { type BackupJob, Config } from '../../../src/config/schema.ts';
import type { JobRunResult } from '../../../src/jobs/kinds.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import type { Logger } from '../../../src/log.ts';
import { silentLogger } from '../../../src/log.ts';
import { createServices, type Services } from '../../../src/services.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { newBucket, type TestBucket } from '../../fixtures/buckets.ts';

export const DAY = 86_400_000;

export interface ShiftClock extends Clock {
  /** Milliseconds added to the real time. */
  offset: number;
}

export function shiftClock(offset = 0): ShiftClock {
  const c: ShiftClock = { offset, now: () => new Date(Date.now() + c.offset), sleep: systemClock.sleep };
  return c;
}

export interface BackupEnv {
  kind: 'fs' | 's3';
  work: string;
  src: string;
  config: Config;
  clock: ShiftClock;
  services: Services;
  storage: Storage;
  bucket?: TestBucket;
  /** Runs the job for real with the clock at `at` (default now); returns the backup id. */
  backup(job?: string, at?: Date): Promise<string>;
  /** Services over the same config with another storage wrapper, clock and log. */
  servicesWith(opts: { wrap?: (s: Storage) => Storage; log?: Logger }): Services;
  cleanup(): Promise<void>;
}

export async function backupEnv(
  kind: 'fs' | 's3',
  opts: {
    jobs?: Record<string, Record<string, unknown>>;
    objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
    /** More settings of the S3 storage, e.g. storageClass. */
    s3?: Record<string, unknown>;
    /** More settings of the filesystem storage, e.g. volumeSize. */
    fs?: Record<string, unknown>;
  } = {},
): Promise<BackupEnv> {
  const work = await mkdtemp(join(tmpdir(), 'bo-retention-'));
  const src = join(work, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'alpha\n');
  await writeFile(join(src, 'sub', 'b.bin'), randomBytes(30_000));
  await writeFile(join(src, 'sub', 'c.txt'), 'gamma\n'.repeat(1000));
  let bucket: TestBucket | undefined;
  let storageInput: Record<string, unknown>;
  if (kind === 's3') {
    bucket = await newBucket({ objectLock: Boolean(opts.objectLock), prefix: 'bo/' });
    storageInput = {
      ...bucket.config,
      ...(opts.objectLock ? { objectLock: opts.objectLock } : {}),
      ...opts.s3,
    };
  } else storageInput = { type: 'filesystem', path: join(work, 'repo'), ...opts.fs };
  const jobs = opts.jobs ?? { files: { retention: { last: 2 } } };
  const config = parseResolved(Config, {
    stateDir: join(work, 'state'),
    storage: { repo: storageInput },
    jobs: Object.fromEntries(
      Object.entries(jobs).map(([n, j]) => [
        n,
        // Standalone archives unless a test asks for chains: retention tests count backups.
        j.kind ? j : { host: 'local', paths: [src], storage: 'repo', incremental: false, ...j },
      ]),
    ),
  });
  const clock = shiftClock();
  const log = silentLogger();
  const make = (wrap?: (s: Storage) => Storage, l: Logger = log): Services => {
    const base = createServices({ config, log: l, clock });
    return wrap ? wrapServices(base, wrap) : base;
  };
  const services = make();
  return {
    kind,
    work,
    src,
    config,
    clock,
    services,
    storage: services.storage('repo'),
    ...(bucket ? { bucket } : {}),
    async backup(job = Object.keys(jobs)[0]!, at) {
      return (await runJobAt({ services, config, clock, log }, job, at)).backupId!;
    },
    servicesWith: ({ wrap, log: l }) => make(wrap, l),
    async cleanup() {
      await services.close();
      await bucket?.destroy();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** `base` with every storage it hands out wrapped by `wrap` (once per name). */
export function wrapServices(base: Services, wrap: (s: Storage) => Storage): Services {
  const wrapped = new Map<string, Storage>();
  return {
    ...base,
    storage(name) {
      const s = wrapped.get(name) ?? wrap(base.storage(name));
      wrapped.set(name, s);
      return s;
    },
  };
}

/** Runs a job for real with the clock at `at` (default now). */
export async function runJobAt(
  env: { services: Services; config: Config; clock: ShiftClock; log: Logger },
  job: string,
  at?: Date,
): Promise<JobRunResult> {
  const saved = env.clock.offset;
  if (at) env.clock.offset = at.getTime() - Date.now();
  try {
    return await runJob(job, env.config.jobs[job]!, {
      services: env.services,
      log: env.log,
      signal: new AbortController().signal,
      runId: `test-${randomBytes(4).toString('hex')}`,
    });
  } finally {
    env.clock.offset = saved;
  }
}

/** Changes a backup job's retention policy in place (the services see the same config). */
export function setRetention(env: BackupEnv, job: string, retention: BackupJob['retention']): void {
  const j = env.config.jobs[job];
  if (j?.kind !== 'backup') throw new Error(`${job} is not a backup job`);
  j.retention = retention;
}

/** Every key in the storage, sorted. */
export async function allKeys(storage: Storage, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list(prefix)) keys.push(o.key);
  return keys.sort();
}

/** A Storage that behaves like `inner` except for the methods given. */
export function wrapStorage(inner: Storage, over: Partial<Storage>): Storage {
  return {
    name: inner.name,
    type: inner.type,
    location: inner.location,
    volumeSize: inner.volumeSize,
    lockable: inner.lockable,
    put: (...a) => inner.put(...a),
    get: (...a) => inner.get(...a),
    stat: (...a) => inner.stat(...a),
    list: (...a) => inner.list(...a),
    delete: (...a) => inner.delete(...a),
    listIncomplete: (...a) => inner.listIncomplete(...a),
    abortIncomplete: (...a) => inner.abortIncomplete(...a),
    retention: (...a) => inner.retention(...a),
    serverSide: inner.serverSide,
    copyIn: (...a) => inner.copyIn(...a),
    requestRestore: (...a) => inner.requestRestore(...a),
    extendRetention: (...a) => inner.extendRetention(...a),
    close: () => inner.close(),
    ...over,
  };
}
