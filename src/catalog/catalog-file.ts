/**
 * The job catalog's encoding. Version 2 is zstd-compressed JSON Lines: a header line
 * (`{"format":"bo-catalog","version":2,"job":…,"updatedAt":…,"count":N}`), then one manifest per
 * line, so a catalog of 200,000 backups is written and read a line at a time: never one string of
 * hundreds of MB, and a reader that only wants a summary of each backup never holds them all.
 * Version 1 (one JSON document, `backups: [...]`) stays readable.
 */
import { Readable } from 'node:stream';
import { createZstdCompress, createZstdDecompress } from 'node:zlib';
import { NotFoundError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';
import { Manifest } from './manifest.ts';

/** Which line file: the catalog (version 2) or its summary (catalog/summaries.ts). */
export interface CatalogKind {
  format: 'bo-catalog' | 'bo-catalog-summary';
  version: number;
}

/** The catalog as it is written now (version 1 is only read). */
export const CATALOG_KIND: CatalogKind = { format: 'bo-catalog', version: 2 };

export interface CatalogHeader {
  job: string;
  updatedAt: string;
  /** Entries that follow (v2); undefined for a v1 catalog. */
  count?: number | undefined;
}

/** The compressed catalog of `manifests` (version 2); only the compressed bytes are held. */
export function encodeCatalog(job: string, updatedAt: Date, manifests: readonly Manifest[]): Promise<Buffer> {
  return encodeLines(CATALOG_KIND, job, updatedAt, manifests, (m) => m);
}

/** A header line and one JSON line per item, zstd-compressed; only the compressed bytes are held. */
export async function encodeLines<T>(
  kind: CatalogKind,
  job: string,
  updatedAt: Date,
  items: readonly T[],
  line: (item: T) => unknown,
): Promise<Buffer> {
  const header = { ...kind, job, updatedAt: updatedAt.toISOString(), count: items.length };
  const manifests = items;
  let i = -1;
  const lines = new Readable({
    read() {
      // A few hundred lines per chunk: few calls into zstd, little text at once.
      let text = '';
      for (let n = 0; n < 256; n++, i++) {
        if (i === -1) text += `${JSON.stringify(header)}\n`;
        else if (i < manifests.length) text += `${JSON.stringify(line(manifests[i]!))}\n`;
        else {
          if (text) this.push(text);
          this.push(null);
          return;
        }
      }
      this.push(text);
    },
  });
  const chunks: Buffer[] = [];
  for await (const c of lines.pipe(createZstdCompress())) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Reads a stored catalog: calls `onHeader` once, then `onEntry` for each entry as parsed JSON
 * (unvalidated: `parseEntry` validates a whole manifest, summaries check what they use).
 * Throws when the body is not a catalog (truncated, corrupted, another format).
 */
export async function readCatalogStream(
  body: Readable,
  onHeader: (h: CatalogHeader) => void,
  onEntry: (raw: unknown) => void,
  kind: CatalogKind = CATALOG_KIND,
): Promise<void> {
  let carry = '';
  let header: CatalogHeader | undefined;
  let v1: string[] | undefined;
  let seen = 0;
  const line = (l: string) => {
    if (!l) return;
    if (header) {
      seen++;
      return onEntry(JSON.parse(l));
    }
    header = parseHeader(l, kind);
    if (!header) throw new Error(`not a ${kind.format} (version ${kind.version})`);
    onHeader(header);
  };
  try {
    for await (const chunk of body.pipe(createZstdDecompress())) {
      const text = carry + (chunk as Buffer).toString('utf8');
      if (v1) {
        v1.push(text);
        carry = '';
        continue;
      }
      if (!header && kind.format === 'bo-catalog' && /^\{"format":"bo-catalog","version":1/.test(text)) {
        v1 = [text];
        carry = '';
        continue;
      }
      const lines = text.split('\n');
      carry = lines.pop()!;
      for (const l of lines) line(l);
    }
  } finally {
    // A failed read (corrupt, not a catalog) stops the decompressor but leaves the body open:
    // its file or connection would otherwise wait for the garbage collector.
    body.destroy();
  }
  if (v1) {
    const doc = JSON.parse(v1.join('')) as { job: string; updatedAt: string; backups: unknown[] };
    onHeader({ job: doc.job, updatedAt: doc.updatedAt, count: undefined });
    for (const b of doc.backups) onEntry(b);
    return;
  }
  line(carry);
  if (!header) throw new Error('empty catalog');
  if (header.count !== undefined && header.count !== seen)
    throw new Error(`truncated catalog: ${seen} of ${header.count} entries`);
}

/** A header line of `kind`, or undefined when the line is another's; throws when it is not JSON. */
export function parseHeader(line: string, kind: CatalogKind): CatalogHeader | undefined {
  const h = JSON.parse(line) as Record<string, unknown>;
  if (
    h.format !== kind.format ||
    h.version !== kind.version ||
    typeof h.job !== 'string' ||
    typeof h.updatedAt !== 'string'
  )
    return undefined;
  return { job: h.job, updatedAt: h.updatedAt, count: typeof h.count === 'number' ? h.count : undefined };
}

/** One entry as a validated manifest, or undefined when it is not one. */
export function parseEntry(raw: unknown): Manifest | undefined {
  const r = Manifest.safeParse(raw);
  return r.success ? r.data : undefined;
}

/**
 * A cached file's body (catalog, summary), or undefined when it is missing or cannot be read
 * right now: the caller then takes the slow path. Only a cancellation propagates.
 */
export async function cachedBody(
  storage: Storage,
  key: string,
  signal?: AbortSignal,
): Promise<Readable | undefined> {
  try {
    return await storage.get(key, { signal });
  } catch (err) {
    if (err instanceof NotFoundError || !signal?.aborted) return undefined;
    throw err;
  }
}
