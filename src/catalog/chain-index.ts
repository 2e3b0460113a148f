/**
 * The complete file index of any backup: for a full, its own index; for an incremental, the tree
 * its chain restores to (chain-tree.ts), each entry saying which backup holds its content. Read
 * from the chain's manifests and indexes alone, so it works on a fresh machine from the bucket.
 */
import type { AgeIdentity } from '../archive/age/index.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import { IntegrityError, NotFoundError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';
import { type BackupRef, readManifest } from './backups.ts';
import { type ChainEntry, replayChain } from './chain-tree.ts';
import { type ChainResult, chainOf } from './chains.ts';
import { readIndex as readOwnIndex } from './objects.ts';

export interface BackupIndex {
  /** The backups read, full first; `ref` alone unless it is an incremental. */
  chain: BackupRef[];
  entries: ChainEntry[];
}

/**
 * The chain `ref` restores from, full first, read parent by parent from the manifests themselves
 * (not a listing, which may be a cache that still names a backup deleted by hand).
 */
export async function walkChain(
  storage: Storage,
  ref: BackupRef,
  signal?: AbortSignal,
  cache?: IndexCache,
): Promise<ChainResult> {
  const found: BackupRef[] = [ref];
  for (let cur = ref; cur.manifest.chain?.type === 'incremental' && found.length <= MAX_CHAIN; ) {
    const parentId = cur.manifest.chain.parent;
    let parent: BackupRef | undefined;
    try {
      if (parentId)
        parent = cache?.refs?.get(parentId) ?? {
          job: ref.job,
          id: parentId,
          manifest: await readManifest(storage, ref.job, parentId, signal),
        };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    if (!parent || found.some((b) => b.id === parent.id)) break;
    found.push(parent);
    cur = parent;
  }
  // chainOf words a missing link (or a loop) as a listing-based check does.
  return chainOf(ref, found);
}

/** Longer than any chain bo makes (fullEvery bounds them): a guard against damaged manifests. */
const MAX_CHAIN = 100_000;

/** The chain `ref` restores from, full first; IntegrityError naming the missing link when broken. */
export async function resolveChain(
  storage: Storage,
  ref: BackupRef,
  signal?: AbortSignal,
  cache?: IndexCache,
): Promise<BackupRef[]> {
  if (ref.manifest.chain?.type !== 'incremental') return [ref];
  const r = await walkChain(storage, ref, signal, cache);
  if (!r.ok) {
    throw new IntegrityError(r.problem, {
      hint: 'restore an older backup whose chain is complete (bo list shows each backup’s chain)',
    });
  }
  return r.chain;
}

/**
 * For reading the indexes of many backups (`bo find`): each backup's own index is read once and
 * kept, and the manifests already listed stand in for reading them again.
 */
export interface IndexCache {
  indexes: Map<string, IndexEntry[]>;
  refs?: ReadonlyMap<string, BackupRef> | undefined;
}

export async function readBackupIndex(
  storage: Storage,
  ref: BackupRef,
  identities: AgeIdentity[] | undefined,
  signal?: AbortSignal,
  cache?: IndexCache,
): Promise<BackupIndex> {
  const chain = await resolveChain(storage, ref, signal, cache);
  const readIndex = async (storage: Storage, b: BackupRef, ids: typeof identities, sig?: AbortSignal) => {
    const known = cache?.indexes.get(b.id);
    if (known) return known;
    const entries = await readOwnIndex(storage, b, ids, sig);
    cache?.indexes.set(b.id, entries);
    return entries;
  };
  if (chain.length === 1) {
    const entries = await readIndex(storage, ref, identities, signal);
    return {
      chain,
      entries: entries.map(({ dumpdir: _, ...e }) => ({ ...e, from: ref.id, member: e.path })),
    };
  }
  const indexes: Array<{ id: string; entries: IndexEntry[] }> = [];
  for (const b of chain) indexes.push({ id: b.id, entries: await readIndex(storage, b, identities, signal) });
  const tree = replayChain(indexes);
  if (tree.problems.length > 0) {
    throw new IntegrityError(
      `the chain of ${ref.job}/${ref.id} is inconsistent: ${tree.problems.slice(0, 3).join('; ')}${tree.problems.length > 3 ? ` (and ${tree.problems.length - 3} more)` : ''}`,
    );
  }
  return { chain, entries: tree.entries() };
}
