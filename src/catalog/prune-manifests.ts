/**
 * What prune needs of each manifest, as columns: a fleet's job can hold 200,000 backups, and a
 * parsed manifest is about 1.3 KB of objects where this is some 100 bytes. Read from the catalog
 * summary (summary-lines.ts), else from the catalog a line at a time (catalog-file.ts), and any
 * manifest neither has from storage.
 */
import { catalogKey, MANIFEST_NAME } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import { type CatalogFacts, catalogHeader } from './catalog.ts';
import { cachedBody, readCatalogStream } from './catalog-file.ts';
import { interner } from './intern.ts';
import type { Manifest } from './manifest.ts';
import { readSummary } from './summary-lines.ts';

type Fields = Pick<Manifest, 'id' | 'startedAt' | 'chain' | 'archive' | 'index' | 'dumps'>;

export class PruneManifests {
  private readonly at = new Map<string, number>();
  /** How many backups are known; the columns may have room for more (reserve). */
  size = 0;
  ids: string[] = [];
  /** Start times in ms since the epoch. */
  times: number[] = [];
  /** An incremental's parent (null: none recorded); undefined for a full or standalone archive. */
  parents: Array<string | null | undefined> = [];
  /** The objects each names (archive, index, dumps), relative to its folder; arrays shared. */
  named: Array<readonly string[]> = [];
  /** Start times as recorded where they differ from the time's ISO form (never, for bo's). */
  private readonly oddStarts = new Map<number, string>();
  private readonly names = interner();
  private readonly lists = new Map<string, readonly string[]>();
  private readonly withManifest = new Map<readonly string[], readonly string[]>();

  /** Makes room for `n` backups at once: 200,000 pushes would copy each column over and over. */
  reserve(n: number): void {
    if (this.size > 0 || n <= 0) return;
    n = Math.min(n, 1 << 21); // a header's count is not to be trusted with memory; beyond this, columns grow
    this.ids = new Array<string>(n);
    this.times = new Array<number>(n).fill(0);
    this.parents = new Array<string | null | undefined>(n);
    this.named = new Array<readonly string[]>(n);
  }

  /** Position of backup `id`, if known. */
  find(id: string): number | undefined {
    return this.at.get(id);
  }

  add(id: string, startedAt: string, parent: string | null | undefined, named: readonly string[]): number {
    const i = this.size++;
    this.at.set(id, i);
    this.ids[i] = id;
    const ms = Date.parse(startedAt);
    this.times[i] = ms;
    if (Number.isNaN(ms) || new Date(ms).toISOString() !== startedAt) this.oddStarts.set(i, startedAt);
    this.parents[i] = this.knownId(parent);
    this.named[i] = this.sharedNames(named);
    return i;
  }

  addManifest(m: Fields): number {
    const parent = m.chain?.type === 'incremental' ? m.chain.parent : undefined;
    return this.add(m.id, m.startedAt, parent, [
      m.archive.key,
      m.index.key,
      ...m.dumps.map((d) => d.object.key),
    ]);
  }

  /**
   * Backup i's parent as the same string as the parent's own id, when that is known: one copy of
   * each id (add does this for a parent added first; a reader asks again for the others).
   */
  parent(i: number): string | null | undefined {
    return this.knownId(this.parents[i]);
  }

  private knownId(id: string | null | undefined): string | null | undefined {
    const at = id ? this.at.get(id) : undefined;
    return at === undefined ? id : this.ids[at];
  }

  /** The start time as the manifest records it. */
  startedAt(i: number): string {
    return this.oddStarts.get(i) ?? new Date(this.times[i]!).toISOString();
  }

  /** Interns a folder's names the way `named` is: one array per distinct list. */
  sharedNames(names: readonly string[]): readonly string[] {
    // Consecutive backups mostly name the same objects: no key to build for those.
    const last = this.lastNames;
    if (last && last[0].length === names.length && last[0].every((n, i) => n === names[i])) return last[1];
    const list = this.sharedByKey(names);
    this.lastNames = [names, list];
    return list;
  }

  private lastNames: [readonly string[], readonly string[]] | undefined;

  private sharedByKey(names: readonly string[]): readonly string[] {
    const key = names.join('/');
    const known = this.lists.get(key);
    if (known) return known;
    const list = names.map(this.names);
    this.lists.set(key, list);
    return list;
  }

  /**
   * A backup's object names: its manifest's, then the ones it names, then any other in its
   * folder, each once. Shared, and without a new array for the usual folder (nothing unnamed).
   */
  objectNames(named: readonly string[], inFolder: readonly string[]): readonly string[] {
    let base = this.withManifest.get(named);
    if (!base) {
      base = this.sharedNames([
        MANIFEST_NAME,
        ...named.filter((n, i) => n !== MANIFEST_NAME && named.indexOf(n) === i),
      ]);
      this.withManifest.set(named, base);
    }
    if (inFolder.every((n) => base.includes(n))) return base;
    return this.sharedNames([
      ...base,
      ...inFolder.filter((n, i) => !base.includes(n) && inFolder.indexOf(n) === i),
    ]);
  }
}

/**
 * The job's cached manifests (empty when there is no usable summary or catalog: then every
 * manifest is read) and, when they came from a summary written with the catalog now stored,
 * what the prune guard needs of that catalog (catalogFacts, without reading it all).
 */
export async function cachedPruneManifests(
  storage: Storage,
  job: string,
  signal?: AbortSignal,
): Promise<{ manifests: PruneManifests; catalog?: CatalogFacts }> {
  const out = new PruneManifests();
  let newestId: string | undefined;
  let newestAt = '';
  let updatedAt: string | undefined;
  const ok = await readSummary(
    storage,
    job,
    (l) => {
      out.add(l[0], l[2], l[9]?.[0] === 'incremental' ? l[9][2] : undefined, l[10]);
      if (newestId === undefined || l[2] > newestAt) {
        newestId = l[0];
        newestAt = l[2];
      }
    },
    signal,
    (h) => {
      updatedAt = h.updatedAt;
      if (h.count !== undefined) out.reserve(h.count);
    },
  );
  if (ok) {
    // The summary is written first: it describes the stored catalog only when both carry the same time.
    const header = await catalogHeader(storage, job, signal);
    const same = header !== undefined && header.updatedAt === updatedAt;
    const facts = same ? { updatedAt: header.updatedAt, count: out.size } : undefined;
    const withNewest = facts && newestId !== undefined ? { ...facts, newestId, newestAt } : facts;
    return { manifests: out, ...(withNewest ? { catalog: withNewest } : {}) };
  }
  return { manifests: (await fromCatalog(storage, job, signal)) ?? new PruneManifests() };
}

/** The catalog's entries, or undefined when there is no usable catalog. */
async function fromCatalog(
  storage: Storage,
  job: string,
  signal?: AbortSignal,
): Promise<PruneManifests | undefined> {
  const body = await cachedBody(storage, catalogKey(job), signal);
  if (!body) return undefined;
  const out = new PruneManifests();
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
        if (ok) out.addManifest(m);
        else bad = true;
      },
    );
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
  return bad || !forJob ? undefined : out;
}
