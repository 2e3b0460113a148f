/**
 * The catalog's summary (`_bo/catalog-summary/<job>.jsonl.zst`): one short JSON array per backup
 * with what `bo list` and prune need, written with the catalog, so neither parses 200,000 full
 * manifests (about 1 KB of JSON each) to show or plan a fleet's history:
 *   [id, host, startedAt, finishedAt, files, sourceBytes, storedBytes, encrypted 0|1, warnings,
 *    chain: null | [type, level, parent, root, reason?], named: [archive, index, dumps...]]
 * A cache of a cache: when it is missing or unusable, readers fall back to the catalog.
 */
import { backupSizes } from '../sizes.ts';
import { catalogSummaryKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import {
  type CatalogHeader,
  type CatalogKind,
  cachedBody,
  encodeLines,
  readCatalogStream,
} from './catalog-file.ts';
import type { Manifest } from './manifest.ts';

export const SUMMARY_KIND: CatalogKind = { format: 'bo-catalog-summary', version: 1 };

export type SummaryChain = [
  type: 'full' | 'incremental',
  level: number,
  parent: string | null,
  root: string,
  reason?: string,
];

export type SummaryLine = [
  id: string,
  host: string,
  startedAt: string,
  finishedAt: string,
  files: number,
  sourceBytes: number,
  storedBytes: number,
  encrypted: 0 | 1,
  warnings: number,
  chain: SummaryChain | null,
  named: string[],
];

export function summaryLine(m: Manifest): SummaryLine {
  const c = m.chain;
  const { sourceBytes, storedBytes } = backupSizes(m);
  return [
    m.id,
    m.host,
    m.startedAt,
    m.finishedAt,
    m.stats.files,
    sourceBytes,
    storedBytes,
    m.encryption ? 1 : 0,
    m.warnings.length,
    c
      ? c.reason === undefined
        ? [c.type, c.level, c.parent, c.root]
        : [c.type, c.level, c.parent, c.root, c.reason]
      : null,
    [m.archive.key, m.index.key, ...m.dumps.map((d) => d.object.key)],
  ];
}

export function encodeSummary(job: string, updatedAt: Date, manifests: readonly Manifest[]): Promise<Buffer> {
  return encodeLines(SUMMARY_KIND, job, updatedAt, manifests, summaryLine);
}

/** A line as the type says, or undefined. */
export function checkLine(raw: unknown): SummaryLine | undefined {
  if (!Array.isArray(raw) || raw.length !== 11) return undefined;
  const [id, host, startedAt, finishedAt, files, src, stored, enc, warnings, chain, named] = raw;
  const ok =
    typeof id === 'string' &&
    typeof host === 'string' &&
    typeof startedAt === 'string' &&
    typeof finishedAt === 'string' &&
    typeof files === 'number' &&
    typeof src === 'number' &&
    typeof stored === 'number' &&
    (enc === 0 || enc === 1) &&
    typeof warnings === 'number' &&
    (chain === null ||
      (Array.isArray(chain) &&
        (chain[0] === 'full' || chain[0] === 'incremental') &&
        typeof chain[1] === 'number' &&
        (chain[2] === null || typeof chain[2] === 'string') &&
        typeof chain[3] === 'string')) &&
    Array.isArray(named) &&
    named.every((n) => typeof n === 'string');
  return ok ? (raw as SummaryLine) : undefined;
}

/**
 * Calls `onLine` for each line of the job's summary; false when there is none or it is unusable
 * (then the caller reads the catalog). A storage error other than "not found" is unusable too,
 * unless the signal was aborted.
 */
export async function readSummary(
  storage: Storage,
  job: string,
  onLine: (l: SummaryLine) => void,
  signal?: AbortSignal,
  onHeader?: (h: CatalogHeader) => void,
): Promise<boolean> {
  const body = await cachedBody(storage, catalogSummaryKey(job), signal);
  if (!body) return false;
  let forJob = false;
  let bad = false;
  try {
    await readCatalogStream(
      body,
      (h) => {
        forJob = h.job === job;
        onHeader?.(h);
      },
      (raw) => {
        const l = bad ? undefined : checkLine(raw);
        if (l) onLine(l);
        else bad = true;
      },
      SUMMARY_KIND,
    );
  } catch (err) {
    if (signal?.aborted) throw err;
    return false;
  }
  return forJob && !bad;
}
