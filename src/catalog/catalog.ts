/**
 * The job catalog: a cache of a job's manifests in one object, `_bo/catalog/<job>.json.zst`, so
 * listing 10,000 backups costs one GET instead of 10,000. The manifests stay the truth:
 *
 * - It is written only under the job's lock: by a backup after its manifest is committed, and by
 *   prune *before* it deletes anything (without the backups it is about to delete), so it never
 *   lists a backup whose manifest is gone. A missing or unreadable catalog just means the slow path.
 * - Reading (`listJobBackups`) takes the catalog, then lists the day prefixes from the newest
 *   cataloged backup's date to today (backup ids start with their UTC date) and reads any
 *   manifest found there that the catalog lacks: backups committed by a run that died before
 *   updating the catalog are still listed.
 * - What it cannot see is a backup deleted by hand since the catalog was written: it stays listed
 *   until the next prune. Everything that *uses* a backup (restore, verify, drill) reads its
 *   manifest and objects first, so such an entry fails loudly, never silently. `full: true`
 *   (`bo list --full`) lists everything and trusts nothing cached.
 */
import type { Readable } from 'node:stream';
import { createZstdDecompress } from 'node:zlib';
import { errorMessage, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import {
  backupIdPrefix,
  CATALOG_ROOT,
  catalogKey,
  catalogSummaryKey,
  jobPrefix,
  manifestKey,
  parseCatalogKey,
  parseManifestKey,
} from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import {
  type BackupListing,
  type BackupRef,
  type BadManifest,
  listBackups,
  readManifest,
} from './backups.ts';
import {
  CATALOG_KIND,
  type CatalogHeader,
  cachedBody,
  encodeCatalog,
  parseEntry,
  parseHeader,
  readCatalogStream,
} from './catalog-file.ts';
import type { Manifest } from './manifest.ts';
import { encodeSummary } from './summary-lines.ts';

/** The cached manifests, or undefined when there is no usable catalog. */
export async function readCatalog(
  storage: Storage,
  job: string,
  signal?: AbortSignal,
): Promise<Manifest[] | undefined> {
  try {
    return (await loadCatalog(storage, job, signal))?.backups;
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined; // unreadable right now: fall back to the manifests
  }
}

export interface CatalogDoc {
  updatedAt: string;
  backups: Manifest[];
}

/**
 * The catalog as stored: undefined when there is none or it is unusable (truncated, another
 * job's, from a future version); a storage error other than "not found" propagates. With `keep`,
 * only the manifests of the backups it accepts are held (prune rewrites the catalog of a few
 * thousand survivors out of 200,000 backups).
 */
export async function loadCatalog(
  storage: Storage,
  job: string,
  signal?: AbortSignal,
  keep: (id: string) => boolean = () => true,
): Promise<CatalogDoc | undefined> {
  const backups: Manifest[] = [];
  const doc = await foldCatalog(
    storage,
    job,
    (m) => {
      if (keep(m.id)) backups.push(m);
    },
    signal,
  );
  return doc && { updatedAt: doc.updatedAt, backups };
}

/** What the prune guard remembers from the catalog: when it was written, how many, the newest. */
export interface CatalogFacts {
  updatedAt: string;
  count: number;
  newestId?: string;
  newestAt?: string;
}

/** loadCatalog's answer, boiled down a manifest at a time to what the guard needs. */
export async function catalogFacts(
  storage: Storage,
  job: string,
  signal?: AbortSignal,
): Promise<CatalogFacts | undefined> {
  let count = 0;
  let newest: { id: string; startedAt: string } | undefined;
  const doc = await foldCatalog(
    storage,
    job,
    (m) => {
      count++;
      if (!newest || m.startedAt > newest.startedAt) newest = { id: m.id, startedAt: m.startedAt };
    },
    signal,
  );
  if (!doc) return undefined;
  return {
    updatedAt: doc.updatedAt,
    count,
    ...(newest ? { newestId: newest.id, newestAt: newest.startedAt } : {}),
  };
}

/**
 * The stored catalog's header line alone (its first line: only the first compressed chunk is
 * read), or undefined when there is none or it is not a version 2 catalog of `job`.
 */
export async function catalogHeader(
  storage: Storage,
  job: string,
  signal?: AbortSignal,
): Promise<CatalogHeader | undefined> {
  const body = await cachedBody(storage, catalogKey(job), signal);
  if (!body) return undefined;
  const unzip = body.pipe(createZstdDecompress());
  let text = '';
  try {
    for await (const chunk of unzip) {
      text += (chunk as Buffer).toString('utf8');
      const end = text.indexOf('\n');
      if (end < 0 && text.length < 65_536) continue;
      const h = parseHeader(end < 0 ? text : text.slice(0, end), CATALOG_KIND);
      return h?.job === job ? h : undefined;
    }
    return undefined;
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  } finally {
    unzip.destroy();
    body.destroy();
  }
}

/** Calls `onManifest` for each valid entry; the header when every entry was valid (see loadCatalog). */
async function foldCatalog(
  storage: Storage,
  job: string,
  onManifest: (m: Manifest) => void,
  signal?: AbortSignal,
): Promise<CatalogHeader | undefined> {
  let body: Readable;
  try {
    body = await storage.get(catalogKey(job), { signal });
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  let header: CatalogHeader | undefined;
  let bad = false;
  try {
    await readCatalogStream(
      body,
      (h) => (header = h),
      (raw) => {
        const m = bad ? undefined : parseEntry(raw);
        if (m) onManifest(m);
        else bad = true;
      },
    );
  } catch {
    if (signal?.aborted) throw signal.reason;
    return undefined;
  }
  return !bad && header?.job === job ? header : undefined;
}

/** Replaces the catalog; call only while holding the job's lock. */
export async function writeCatalog(
  storage: Storage,
  job: string,
  manifests: readonly Manifest[],
  now: Date,
): Promise<void> {
  // The summary first: it may lack a backup the catalog still lists (prune rewrites both before
  // deleting), never list one the catalog no longer has.
  await storage.put(catalogSummaryKey(job), await encodeSummary(job, now, manifests), {
    contentType: 'application/zstd',
  });
  await storage.put(catalogKey(job), await encodeCatalog(job, now, manifests), {
    contentType: 'application/zstd',
  });
}

/** After a backup committed (under the lock): add it, and anything else missed, to the catalog. Never throws. */
export async function catalogAfterBackup(
  storage: Storage,
  job: string,
  now: Date,
  log: Logger,
): Promise<void> {
  try {
    const cached = await readCatalog(storage, job);
    const listing = cached
      ? await withRecent(storage, job, cached, now)
      : await listBackups(storage, { job });
    await writeCatalog(
      storage,
      job,
      listing.backups.map((b) => b.manifest),
      now,
    );
  } catch (err) {
    log.warn(
      { job, err: errorMessage(err) },
      'Cannot update the job catalog; listings read the manifests instead',
    );
  }
}

/** A job's backups, oldest first: from the catalog plus recent prefixes, or in full (see the file comment). */
export async function listJobBackups(
  storage: Storage,
  job: string,
  opts: { signal?: AbortSignal | undefined; full?: boolean; now?: Date } = {},
): Promise<BackupListing> {
  const cached = opts.full ? undefined : await readCatalog(storage, job, opts.signal);
  if (!cached) return await listBackups(storage, { job, ...(opts.signal ? { signal: opts.signal } : {}) });
  return await withRecent(storage, job, cached, opts.now ?? new Date(), opts.signal);
}

/**
 * Every backup in a storage target for `bo list`: per job through listJobBackups, for the jobs
 * given (the configured ones using this storage) and every job with a catalog here. `full` lists
 * the whole target and reads every manifest, also finding jobs neither configured nor cataloged.
 */
export async function listStorageBackups(
  storage: Storage,
  opts: {
    jobs: readonly string[];
    job?: string | undefined;
    full?: boolean;
    signal?: AbortSignal | undefined;
  },
): Promise<BackupListing> {
  const signal = opts.signal ? { signal: opts.signal } : {};
  if (opts.full) return await listBackups(storage, { job: opts.job, ...signal });
  const names = opts.job
    ? [opts.job]
    : [...new Set([...opts.jobs, ...(await catalogedJobs(storage, opts.signal))])];
  const all: BackupListing = { backups: [], unreadable: [] };
  for (const job of names) {
    const l = await listJobBackups(storage, job, signal);
    all.backups.push(...l.backups);
    all.unreadable.push(...l.unreadable);
  }
  all.backups.sort(byFinished);
  return all;
}

/** Jobs that have a catalog in this storage. */
export async function catalogedJobs(storage: Storage, signal?: AbortSignal): Promise<string[]> {
  const jobs: string[] = [];
  for await (const o of storage.list(CATALOG_ROOT, signal ? { signal } : {})) {
    const job = parseCatalogKey(o.key);
    if (job) jobs.push(job);
  }
  return jobs;
}

async function withRecent(
  storage: Storage,
  job: string,
  cached: Manifest[],
  now: Date,
  signal?: AbortSignal,
): Promise<BackupListing> {
  const known = new Map(cached.map((m) => [m.id, m]));
  const newest = newestOf(cached.map((m) => m.id));
  const fresh: string[] = [];
  for (const prefix of recentPrefixes(job, newest, now)) {
    for await (const o of storage.list(prefix, signal ? { signal } : {})) {
      const ref = parseManifestKey(o.key);
      if (ref && ref.job === job && !known.has(ref.id)) fresh.push(ref.id);
    }
  }
  const backups: BackupRef[] = cached.map((manifest) => ({ job, id: manifest.id, manifest }));
  const unreadable: BadManifest[] = [];
  for (const id of fresh) {
    try {
      backups.push({ job, id, manifest: await readManifest(storage, job, id, signal) });
    } catch (err) {
      if (signal?.aborted || err instanceof NotFoundError) continue; // pruned meanwhile
      unreadable.push({ key: manifestKey(job, id), error: errorMessage(err) });
    }
  }
  backups.sort(byFinished);
  return { backups, unreadable };
}

/**
 * Key prefixes covering every backup id from `newestId`'s UTC day to tomorrow (ids start with
 * YYYYMMDD): one per day for up to 62 days, else one per month for up to 36 months, else the job.
 */
export function recentPrefixes(job: string, newestId: string, now: Date): string[] {
  const m = /^(\d{4})(\d{2})(\d{2})T/.exec(newestId);
  if (!m) return [jobPrefix(job)];
  const from = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const to = now.getTime() + 86_400_000;
  const day = (t: number) => new Date(t).toISOString().slice(0, 10).replaceAll('-', '');
  if (to - from <= 62 * 86_400_000) {
    const out: string[] = [];
    for (let t = from; t <= to; t += 86_400_000) out.push(backupIdPrefix(job, day(t)));
    return out;
  }
  const out: string[] = [];
  for (
    let d = new Date(from);
    d.getTime() <= to;
    d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))
  ) {
    out.push(backupIdPrefix(job, day(d.getTime()).slice(0, 6)));
    if (out.length > 36) return [jobPrefix(job)];
  }
  return out;
}

/**
 * Oldest first by finish time, then id. Plain code-unit comparison: ISO times and ids are ASCII,
 * and localeCompare costs a tenth of a second per sort of 10,000 backups.
 */
function byFinished(a: BackupRef, b: BackupRef): number {
  const x = a.manifest.finishedAt;
  const y = b.manifest.finishedAt;
  if (x !== y) return x < y ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The greatest of some ISO-like strings ('' for none). */
function newestOf(values: readonly string[]): string {
  let max = '';
  for (const v of values) if (v > max) max = v;
  return max;
}
