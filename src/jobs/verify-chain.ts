/**
 * Verify and incremental chains: an incremental is only as good as its chain. Besides its own
 * deep check (verify.ts), verifying one checks that every ancestor is there:
 *
 * - each ancestor's manifest is readable (a missing one breaks the chain: the problem names it
 *   and every listed backup it breaks);
 * - each ancestor's objects (archive, index, dumps) are stored with the sizes its manifest
 *   records, a HEAD each (reading them in full is the ancestor's own verify);
 * - an ancestor already verified in this run counts by its outcome instead: a corrupted parent
 *   fails the parent, and its descendants say their chain includes it;
 * - the chain agrees with the manifest: the full reached is the recorded root, and the recorded
 *   level is the number of ancestors.
 *
 * One checker serves one job in one run; ancestors' manifests and stat results are read once.
 */
import { type BackupRef, listBackups, readManifest } from '../catalog/backups.ts';
import { storedVolumes } from '../catalog/manifest.ts';
import { errorMessage, NotFoundError } from '../errors.ts';
import { brokenChains, chainLinkOf } from '../plan/chain-links.ts';
import { objectKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import type { VerifyOutcome } from './verify.ts';

export interface ChainChecker {
  /** Adds `ref`'s chain problems to its outcome (failing it) and counts its ancestors. */
  apply(o: VerifyOutcome, ref: BackupRef): Promise<void>;
}

type Ancestor = { ref: BackupRef; problems: string[] } | { missing: string };

/**
 * `listed`: the job's backups as just listed from their manifests, when the run listed them; a
 * single backup's run lists them only to name what a missing ancestor breaks.
 */
export function chainChecker(
  storage: Storage,
  job: string,
  opts: { listed?: readonly BackupRef[] | undefined; signal: AbortSignal },
): ChainChecker {
  const { signal } = opts;
  const known = new Map((opts.listed ?? []).map((b) => [b.id, b]));
  const ancestors = new Map<string, Promise<Ancestor>>();
  /** Backups verified in this run: undefined when their own objects passed, else the first problem. */
  const own = new Map<string, string | undefined>();
  let listing: Promise<readonly BackupRef[]> | undefined;

  const ancestor = (id: string) => {
    let a = ancestors.get(id);
    if (!a) {
      a = loadAncestor(id);
      ancestors.set(id, a);
    }
    return a;
  };
  async function loadAncestor(id: string): Promise<Ancestor> {
    let ref = known.get(id);
    if (!ref) {
      try {
        ref = { job, id, manifest: await readManifest(storage, job, id, signal) };
      } catch (err) {
        if (signal.aborted) throw err;
        if (err instanceof NotFoundError) return { missing: 'is missing' };
        return { missing: `has an unreadable manifest (${errorMessage(err)})` };
      }
    }
    const m = ref.manifest;
    if (m.id !== id || m.job !== job) return { missing: `has a manifest describing ${m.job}/${m.id}` };
    if (own.has(id)) return { ref, problems: [] }; // read in full in this run: its outcome counts
    const problems: string[] = [];
    for (const obj of storedVolumes(m)) {
      const key = objectKey(ref, obj.key);
      try {
        const st = await storage.stat(key);
        if (!st) problems.push(`${key} is missing`);
        else if (st.size !== obj.size)
          problems.push(`${key} is ${st.size} bytes, its manifest says ${obj.size}`);
      } catch (err) {
        if (signal.aborted) throw err;
        problems.push(`${key} cannot be checked: ${errorMessage(err)}`);
      }
    }
    return { ref, problems };
  }

  /** The listed backups whose chain breaks at `missing`, oldest first. */
  async function brokenBy(missing: string): Promise<string[]> {
    listing ??= opts.listed
      ? Promise.resolve(opts.listed)
      : listBackups(storage, { job, signal }).then(
          (l) => l.backups,
          () => [],
        );
    const refs = await listing;
    const states = brokenChains(refs.map((b) => chainLinkOf(b.manifest)));
    return refs.filter((b) => states.get(b.id)?.missing === missing).map((b) => b.id);
  }

  return {
    async apply(o, ref) {
      if (o.status !== 'gone') own.set(ref.id, o.status === 'ok' ? undefined : (o.problems[0] ?? 'failed'));
      if (ref.manifest.chain?.type === 'incremental' && o.status !== 'gone') {
        const { count, problems } = await walk(ref);
        o.ancestors = count;
        if (problems.length > 0) {
          o.problems.push(...problems);
          o.status = 'failed';
        }
      }
    },
  };

  async function walk(ref: BackupRef): Promise<{ count: number; problems: string[] }> {
    const problems: string[] = [];
    const seen = new Set([ref.id]);
    let cur = ref;
    let count = 0;
    while (cur.manifest.chain?.type === 'incremental') {
      const pid = cur.manifest.chain.parent;
      const whose = cur === ref ? 'its parent' : `parent of ${cur.id}`;
      if (!pid || seen.has(pid)) {
        problems.push(
          `its chain is broken: ${cur.id} is an incremental ${pid ? `whose chain loops at ${pid}` : 'without a recorded parent'}`,
        );
        return { count, problems };
      }
      seen.add(pid);
      const a = await ancestor(pid);
      if ('missing' in a) {
        const breaks = [...new Set([...(await brokenBy(pid)), ...seen])].filter((id) => id !== pid).sort();
        problems.push(
          `its chain is broken: backup ${job}/${pid} (${whose}) ${a.missing}; that breaks ${breaks.map((id) => `${job}/${id}`).join(', ')}`,
        );
        return { count, problems };
      }
      count++;
      // Verified in this run: its own objects' result counts (its chain's is this walk's).
      const failed = own.get(pid);
      if (failed !== undefined) {
        problems.push(
          `its chain includes backup ${job}/${pid} (${whose}), which failed verify in this run: ${failed}`,
        );
      } else if (!own.has(pid)) {
        problems.push(...a.problems.map((p) => `its chain includes backup ${job}/${pid} (${whose}): ${p}`));
      }
      cur = a.ref;
    }
    const chain = ref.manifest.chain!;
    if (chain.root !== cur.id || chain.level !== count) {
      problems.push(
        `its chain does not match its manifest: it leads to ${cur.id} after ${count} ancestor(s), the manifest says root ${chain.root} at level ${chain.level}`,
      );
    }
    return { count, problems };
  }
}
