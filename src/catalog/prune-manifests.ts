/**
 * What prune needs of each manifest, and nothing more: a fleet's job can hold 200,000 backups,
 * and a parsed manifest is about 1.3 KB where this is a fifth of it. Read from the job catalog a
 * line at a time (catalog-file.ts) or from a manifest read from storage.
 */
import type { Readable } from 'node:stream';
import { NotFoundError } from '../errors.ts';
import { catalogKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import { readCatalogStream } from './catalog-file.ts';
import { type Interner, interner } from './intern.ts';
import type { Manifest } from './manifest.ts';
import { readSummary } from './summary-lines.ts';

export interface PruneManifest {
  id: string;
  job: string;
  startedAt: string;
  chain: { type: 'full' | 'incremental'; parent: string | null } | null;
  /** The objects the manifest names (archive, index, dumps), relative to the backup's folder. */
  named: string[];
}

export function pruneManifest(
  m: Pick<Manifest, 'id' | 'job' | 'startedAt' | 'chain' | 'archive' | 'index' | 'dumps'>,
  intern: Interner = (s) => s,
): PruneManifest {
  return {
    id: m.id,
    job: intern(m.job),
    startedAt: m.startedAt,
    chain: m.chain ? { type: m.chain.type, parent: m.chain.parent } : null,
    named: [m.archive.key, m.index.key, ...m.dumps.map((d) => d.object.key)].map(intern),
  };
}

/** The catalog's entries by id, or undefined when there is no usable catalog (then every manifest is read). */
export async function catalogPruneManifests(
  storage: Storage,
  job: string,
  signal?: AbortSignal,
): Promise<Map<string, PruneManifest> | undefined> {
  const fast = new Map<string, PruneManifest>();
  const j = job;
  const name = interner();
  const ok = await readSummary(
    storage,
    job,
    (l) =>
      fast.set(l[0], {
        id: l[0],
        job: j,
        startedAt: l[2],
        chain: l[9] ? { type: l[9][0], parent: l[9][2] } : null,
        named: l[10].map(name),
      }),
    signal,
  );
  if (ok) return fast;
  fast.clear();
  let body: Readable;
  try {
    body = await storage.get(catalogKey(job), { signal });
  } catch (err) {
    if (err instanceof NotFoundError || !signal?.aborted) return undefined;
    throw err;
  }
  const intern = interner();
  const out = new Map<string, PruneManifest>();
  let bad = false;
  let forJob = false;
  try {
    await readCatalogStream(
      body,
      (h) => (forJob = h.job === job),
      (raw) => {
        if (bad) return;
        const m = raw as Manifest;
        const ok =
          m?.format === 'bo-backup' &&
          m.job === job &&
          typeof m.id === 'string' &&
          typeof m.startedAt === 'string' &&
          typeof m.archive?.key === 'string' &&
          typeof m.index?.key === 'string' &&
          Array.isArray(m.dumps) &&
          m.dumps.every((d) => typeof d?.object?.key === 'string') &&
          (m.chain === undefined ||
            m.chain === null ||
            ((m.chain.type === 'full' || m.chain.type === 'incremental') &&
              (m.chain.parent === null || typeof m.chain.parent === 'string')));
        if (ok) out.set(m.id, pruneManifest({ ...m, chain: m.chain ?? null }, intern));
        else bad = true;
      },
    );
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
  return bad || !forJob ? undefined : out;
}
