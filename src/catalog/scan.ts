import { compactHeap } from '../archive/buffer-gc.ts';
import { errorMessage } from '../errors.ts';
import type { PruneBackups } from '../plan/prune-backups.ts';
import { compareKeys } from '../storage/keys.ts';
import { jobPrefix, MANIFEST_NAME, manifestKey, parseBackupKey } from '../storage/layout.ts';
import type { IncompleteUpload, ObjectInfo, Storage } from '../storage/storage.ts';
import { type BadManifest, readManifest } from './backups.ts';
import type { CatalogFacts } from './catalog.ts';
import { cachedPruneManifests, type PruneManifests } from './prune-manifests.ts';

/** Everything stored for one job, from one listing: what prune plans with. */
export interface JobScan {
  job: string;
  /**
   * Backups listed with a readable manifest, oldest first, as columns (no checks yet). Names:
   * the manifest's first, then the objects it names, then any other object in its folder.
   */
  backups: Omit<PruneBackups, 'checks'>;
  /** The newest backup, its start as its manifest records it. */
  newest?: { id: string; startedAt: string } | undefined;
  /** Manifests that exist but cannot be read or parsed, or name another backup. */
  unreadable: BadManifest[];
  /** Objects in backup folders without a manifest: leftovers of failed runs. */
  orphans: ObjectInfo[];
  /** Keys not shaped `<job>/<id>/<name>`: not bo's, left alone. */
  stray: ObjectInfo[];
  incomplete: IncompleteUpload[];
  /** Objects listed under the job's folder. */
  listed: number;
  /** What the job's catalog in storage lists, when the scan could tell it cheaply (see cachedPruneManifests). */
  catalog?: CatalogFacts | undefined;
}

/**
 * Lists `<job>/` once and reads every manifest in it: from the job catalog when it has it
 * (manifests never change, so a copy is as good as the original, and 200,000 GETs are minutes),
 * else from storage. What decides that a backup exists is the listing, never the catalog. Any
 * listing error propagates: a partial listing must never look like a complete one. Manifest read
 * errors are collected in `unreadable` so the caller can refuse to act on an incomplete picture.
 *
 * A listing comes in key order, so each backup folder's objects come together: a folder is done
 * when the next begins, and only it is held whole. One that comes back later means the storage
 * broke its contract, and the scan fails rather than plan from it.
 */
export async function scanJob(
  storage: Storage,
  job: string,
  opts: { signal?: AbortSignal | undefined; concurrency?: number } = {},
): Promise<JobScan> {
  const seen = { uploads: [] as IncompleteUpload[], complete: false };
  const signal = opts.signal ? { signal: opts.signal } : {};
  // The listing starts first: a filesystem walks on a thread of its own while the catalog is read.
  const listing = storage
    .list(jobPrefix(job), { ...signal, incomplete: seen, bulk: true })
    [Symbol.asyncIterator]();
  const first = listing.next();
  first.catch(() => {}); // its error is thrown where it is read
  let cached: Awaited<ReturnType<typeof cachedPruneManifests>>;
  try {
    cached = await cachedPruneManifests(storage, job, opts.signal);
  } catch (err) {
    await listing.return?.(undefined).catch(() => {});
    throw err;
  }
  const facts = cached.manifests;
  const listed = new Listed(facts.size + 64);
  const orphans: ObjectInfo[] = [];
  const stray: ObjectInfo[] = [];
  let objects = 0;
  let folder:
    | { id: string; names: string[]; bytes: number; objects: ObjectInfo[]; manifest: boolean }
    | undefined;
  const close = () => {
    if (!folder) return;
    if (!folder.manifest) orphans.push(...folder.objects);
    else {
      const at = facts.find(folder.id);
      listed.add(
        at ?? -1,
        folder.bytes,
        facts.objectNames(at === undefined ? [] : facts.named[at]!, folder.names),
      );
      if (at === undefined) listed.unknown.set(listed.size - 1, folder.id);
    }
    folder = undefined;
  };
  let read = false;
  try {
    for (let r = await first; !r.done; r = await listing.next()) {
      const obj = r.value;
      objects++;
      const parsed = parseBackupKey(obj.key);
      if (!parsed) {
        stray.push(obj);
        continue;
      }
      if (folder?.id !== parsed.id) {
        if (folder && compareKeys(`${parsed.id}/`, `${folder.id}/`) <= 0)
          throw new Error(
            `listing of ${jobPrefix(job)} is out of key order at ${obj.key}: not planning from it`,
          );
        close();
        folder = { id: parsed.id, names: [], bytes: 0, objects: [], manifest: false };
      }
      folder.bytes += obj.size;
      if (parsed.name === MANIFEST_NAME) {
        folder.manifest = true;
        folder.objects.length = 0;
      } else {
        folder.names.push(parsed.name);
        if (!folder.manifest) folder.objects.push(obj);
      }
    }
    read = true;
  } finally {
    if (!read) await listing.return?.(undefined).catch(() => {}); // stops a filesystem's walk thread
  }
  close();
  // A filesystem finds its temp files in the same walk; S3 lists its multipart uploads apart.
  const incomplete = seen.complete ? seen.uploads : [];
  if (!seen.complete) for await (const u of storage.listIncomplete(jobPrefix(job))) incomplete.push(u);
  // Listing a job of 200,000 backups leaves ~100 MB of garbage the young generation could not
  // hold: freed now, before the columns are built, not at whatever size V8 would next collect at.
  compactHeap();

  const unreadable = await readMissing(storage, job, facts, listed, opts);
  const keep: number[] = [];
  for (let k = 0; k < listed.size; k++) if (listed.at[k]! >= 0) keep.push(k);
  const idOf = (k: number) => facts.ids[listed.at[k]!]!;
  // Oldest first; ties by id. Plain comparisons: localeCompare is slow on 200,000.
  keep.sort((x, y) => {
    const d = facts.times[listed.at[x]!]! - facts.times[listed.at[y]!]!;
    if (d !== 0) return d;
    const a = idOf(x);
    const b = idOf(y);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const last = keep.at(-1);
  return {
    job,
    backups: {
      ids: keep.map(idOf),
      times: Float64Array.from(keep, (k) => facts.times[listed.at[k]!]!),
      names: keep.map((k) => listed.names[k]!),
      bytes: Float64Array.from(keep, (k) => listed.bytes[k]!),
      parents: keep.map((k) => facts.parent(listed.at[k]!)),
    },
    ...(last !== undefined
      ? { newest: { id: idOf(last), startedAt: facts.startedAt(listed.at[last]!) } }
      : {}),
    unreadable,
    orphans,
    stray,
    incomplete,
    listed: objects,
    ...(cached.catalog ? { catalog: cached.catalog } : {}),
  };
}

/** The listed backups in listing order: position in the facts (-1: still to be read), size, names. */
class Listed {
  size = 0;
  at: Int32Array;
  bytes: Float64Array;
  names: Array<readonly string[]>;
  /** Ids of the ones the facts lacked, by listing position. */
  readonly unknown = new Map<number, string>();

  constructor(capacity: number) {
    this.at = new Int32Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.names = new Array<readonly string[]>(capacity);
  }

  add(at: number, bytes: number, names: readonly string[]): void {
    if (this.size === this.at.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T) => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.at = grow(this.at, (n) => new Int32Array(n));
      this.bytes = grow(this.bytes, (n) => new Float64Array(n));
    }
    this.at[this.size] = at;
    this.bytes[this.size] = bytes;
    this.names[this.size++] = names;
  }
}

/**
 * Reads the manifests of listed backups the facts lacked into `facts`, setting their positions
 * and names; the ones that cannot be read stay -1 and are returned.
 */
async function readMissing(
  storage: Storage,
  job: string,
  facts: PruneManifests,
  listed: Listed,
  opts: { signal?: AbortSignal | undefined; concurrency?: number },
): Promise<BadManifest[]> {
  const todo = [...listed.unknown];
  const unreadable: BadManifest[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const [k, id] = todo[next++]!;
      const key = manifestKey(job, id);
      try {
        const m = await readManifest(storage, job, id, opts.signal);
        if (m.job !== job || m.id !== id) {
          unreadable.push({ key, error: `manifest describes ${m.job}/${m.id}, not ${job}/${id}` });
        } else {
          const at = facts.addManifest(m);
          listed.at[k] = at;
          listed.names[k] = facts.objectNames(facts.named[at]!, listed.names[k]!);
        }
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        unreadable.push({ key, error: errorMessage(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, todo.length) }, worker));
  return unreadable;
}
