/**
 * What `bo list` shows of each backup, without keeping its manifest: a fleet's history is
 * hundreds of thousands of manifests, about 1.3 KB each once parsed, and a summary is a fifth of
 * that. Read from the job catalog a line at a time (catalog-file.ts), plus the manifests the
 * catalog does not have yet (the recent day prefixes), as listJobBackups does.
 */
import { errorMessage, NotFoundError } from '../errors.ts';
import { backupSizes } from '../sizes.ts';
import { catalogKey, jobPrefix, manifestKey, parseManifestKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import { type BadManifest, listBackups, readManifest } from './backups.ts';
import { catalogedJobs, recentPrefixes } from './catalog.ts';
import { cachedBody, readCatalogStream } from './catalog-file.ts';
import { type Interner, interner } from './intern.ts';
import type { ChainInfo, Manifest } from './manifest.ts';
import { readSummary, type SummaryLine } from './summary-lines.ts';

export interface BackupSummary {
  job: string;
  id: string;
  host: string;
  finishedAt: string;
  files: number;
  sourceBytes: number;
  storedBytes: number;
  encrypted: boolean;
  warnings: number;
  chain: ChainInfo | null;
}

export interface SummaryListing {
  backups: BackupSummary[];
  unreadable: BadManifest[];
}

export function summarize(job: string, m: Manifest, intern: Interner = (s) => s): BackupSummary {
  const c = m.chain;
  return {
    job: intern(job),
    id: m.id,
    host: intern(m.host),
    finishedAt: m.finishedAt,
    files: m.stats.files,
    ...backupSizes(m),
    encrypted: m.encryption !== null,
    warnings: m.warnings.length,
    chain: c
      ? {
          type: c.type,
          level: c.level,
          parent: c.parent,
          root: intern(c.root),
          ...(c.reason === undefined ? {} : { reason: intern(c.reason) }),
        }
      : null,
  };
}

/** The summary of a catalog entry, checking what it uses; undefined when it is not a manifest. */
function summarizeRaw(job: string, raw: unknown, intern: Interner): BackupSummary | undefined {
  const m = raw as Manifest;
  const ok =
    typeof m === 'object' &&
    m !== null &&
    m.format === 'bo-backup' &&
    typeof m.id === 'string' &&
    m.job === job &&
    typeof m.host === 'string' &&
    typeof m.finishedAt === 'string' &&
    typeof m.stats?.files === 'number' &&
    typeof m.stats?.bytes === 'number' &&
    typeof m.archive?.size === 'number' &&
    typeof m.index?.size === 'number' &&
    Array.isArray(m.dumps) &&
    Array.isArray(m.warnings);
  if (!ok) return undefined;
  return summarize(job, { ...m, chain: m.chain ?? null, encryption: m.encryption ?? null }, intern);
}

/** A summary line as a summary. */
function fromLine(job: string, l: SummaryLine, intern: Interner): BackupSummary {
  const c = l[9];
  return {
    job,
    id: l[0],
    host: intern(l[1]),
    finishedAt: l[3],
    files: l[4],
    sourceBytes: l[5],
    storedBytes: l[6],
    encrypted: l[7] === 1,
    warnings: l[8],
    chain: c
      ? {
          type: c[0],
          level: c[1],
          parent: c[2],
          root: intern(c[3]),
          ...(c[4] === undefined ? {} : { reason: intern(c[4]) }),
        }
      : null,
  };
}

/** The catalog's summaries (its summary file, else the catalog itself), or undefined when there is no usable catalog. */
async function catalogSummaries(
  storage: Storage,
  job: string,
  intern: Interner,
  signal?: AbortSignal,
): Promise<BackupSummary[] | undefined> {
  const fast: BackupSummary[] = [];
  const j = intern(job);
  if (await readSummary(storage, job, (l) => fast.push(fromLine(j, l, intern)), signal)) return fast;
  fast.length = 0;
  const body = await cachedBody(storage, catalogKey(job), signal);
  if (!body) return undefined;
  const out: BackupSummary[] = [];
  let bad = false;
  let forJob = false;
  try {
    await readCatalogStream(
      body,
      (h) => (forJob = h.job === job),
      (raw) => {
        const s = bad ? undefined : summarizeRaw(job, raw, intern);
        if (s) out.push(s);
        else bad = true;
      },
    );
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
  return bad || !forJob ? undefined : out;
}

/** A job's backups as summaries, oldest first: the catalog plus recent prefixes, else every manifest. */
export async function listJobSummaries(
  storage: Storage,
  job: string,
  opts: { signal?: AbortSignal | undefined; full?: boolean; now?: Date; intern?: Interner } = {},
): Promise<SummaryListing> {
  const intern = opts.intern ?? interner();
  const signal = opts.signal;
  const cached = opts.full ? undefined : await catalogSummaries(storage, job, intern, signal);
  if (!cached) {
    const l = await listBackups(storage, { job, ...(signal ? { signal } : {}) });
    return { backups: l.backups.map((b) => summarize(b.job, b.manifest, intern)), unreadable: l.unreadable };
  }
  let newest = '';
  for (const b of cached) if (b.id > newest) newest = b.id;
  const prefixes = recentPrefixes(job, newest, opts.now ?? new Date());
  // Only ids from the first (oldest) prefix on can be listed again: the set holds only those.
  const from = prefixes[0]?.slice(jobPrefix(job).length) ?? '';
  const known = new Set<string>();
  for (const b of cached) if (b.id >= from) known.add(b.id);
  const unreadable: BadManifest[] = [];
  for (const prefix of prefixes) {
    for await (const o of storage.list(prefix, signal ? { signal } : {})) {
      const ref = parseManifestKey(o.key);
      if (!ref || ref.job !== job || known.has(ref.id)) continue;
      try {
        cached.push(summarize(job, await readManifest(storage, job, ref.id, signal), intern));
      } catch (err) {
        if (signal?.aborted || err instanceof NotFoundError) continue; // pruned meanwhile
        unreadable.push({ key: manifestKey(job, ref.id), error: errorMessage(err) });
      }
    }
  }
  cached.sort(byFinished);
  return { backups: cached, unreadable };
}

/** Every backup of a storage target as summaries, like listStorageBackups. */
export async function listStorageSummaries(
  storage: Storage,
  opts: {
    jobs: readonly string[];
    job?: string | undefined;
    full?: boolean;
    signal?: AbortSignal | undefined;
  },
): Promise<SummaryListing> {
  const signal = opts.signal ? { signal: opts.signal } : {};
  const intern = interner();
  if (opts.full && !opts.job) {
    const l = await listBackups(storage, { ...signal });
    const backups = l.backups.map((b) => summarize(b.job, b.manifest, intern));
    return { backups: backups.sort(byFinished), unreadable: l.unreadable };
  }
  const names = opts.job
    ? [opts.job]
    : [...new Set([...opts.jobs, ...(await catalogedJobs(storage, opts.signal))])];
  const all: SummaryListing = { backups: [], unreadable: [] };
  for (const job of names) {
    const l = await listJobSummaries(storage, job, { ...signal, full: opts.full ?? false, intern });
    for (const b of l.backups) all.backups.push(b);
    all.unreadable.push(...l.unreadable);
  }
  all.backups.sort(byFinished);
  return all;
}

function byFinished(a: BackupSummary, b: BackupSummary): number {
  if (a.finishedAt !== b.finishedAt) return a.finishedAt < b.finishedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
