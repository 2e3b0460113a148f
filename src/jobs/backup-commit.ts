import { buffer } from 'node:stream/consumers';
import { type DumpRecord, MANIFEST_VERSION, type Manifest, storedObject } from '../catalog/manifest.ts';
import type { BackupJob, Config } from '../config/schema.ts';
import { BoError, errorMessage, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BackupPlan } from '../plan/backup.ts';
import type { Storage } from '../storage/storage.ts';
import { TOOL_VERSION } from '../version.ts';
import type { ArchiveStreams } from './backup-streams.ts';

/** How long a manifest write already under way may still take once the run is cancelled. */
export const COMMIT_GRACE_MS = 15_000;
/** How long reading an uncertain manifest back may take. */
const READ_BACK_MS = 60_000;

/**
 * The manifest may be stored, and bo could neither confirm nor remove it: the backup's other
 * objects must stay, so that a listed manifest still has its archive and index.
 */
export class UncertainCommitError extends BoError {}

/**
 * Writes a backup's manifest: the commit point. A write can fail after the storage carried it
 * out (a 500 answer or a timeout for a PutObject that was stored, a directory fsync failing after
 * the rename), so a failed write is settled before it is reported: the manifest read back is the
 * one sent → committed, and this resolves; otherwise the manifest is removed and the write's error
 * is thrown, and only then may the caller remove the archive and index. When the manifest can be
 * neither read back nor removed, UncertainCommitError says the caller must keep them.
 *
 * A cancellation arriving while the write is under way lets it finish (it is one small object)
 * for up to COMMIT_GRACE_MS: a write cut off half-way is the ambiguous case, not an answer.
 */
export async function commitManifest(
  storage: Storage,
  key: string,
  body: Buffer,
  o: { signal: AbortSignal; log: Logger },
): Promise<void> {
  const grace = afterGrace(o.signal, COMMIT_GRACE_MS);
  let failure: unknown;
  try {
    await storage.put(key, body, { signal: grace.signal, contentType: 'application/json' });
    return;
  } catch (err) {
    failure = err;
  } finally {
    grace.dispose();
  }
  let stored: Buffer | undefined;
  try {
    stored = await readBack(storage, key);
  } catch (err) {
    o.log.warn({ key, err: errorMessage(err) }, 'Cannot read back a manifest whose write failed');
  }
  if (stored?.equals(body)) {
    o.log.warn(
      { key, err: errorMessage(failure) },
      'The manifest write reported an error, but the manifest read back is the one sent: committed',
    );
    return;
  }
  try {
    await storage.delete(key);
  } catch (err) {
    throw new UncertainCommitError(
      `writing the manifest ${key} failed (${errorMessage(failure)}) and it could not be removed (${errorMessage(err)}); the backup's objects are kept, so the backup is whole if the manifest was stored`,
      { cause: failure },
    );
  }
  throw failure;
}

/** The manifest of a backup whose objects are stored and verified: what restore and verify need. */
export function buildManifest(b: {
  id: string;
  name: string;
  job: BackupJob;
  config: Config;
  plan: BackupPlan;
  startedAt: Date;
  finishedAt: Date;
  exclude: string[];
  streamed: ArchiveStreams;
  dumps: DumpRecord[];
  snapshot: Manifest['snapshot'];
  warnings: string[];
  chain: Manifest['chain'];
}): Manifest {
  const { job, plan, streamed } = b;
  return {
    format: 'bo-backup',
    version: MANIFEST_VERSION,
    id: b.id,
    job: b.name,
    host: job.host,
    hostAddress: job.host === 'local' ? 'local' : (b.config.hosts[job.host]?.address ?? job.host),
    paths: job.paths,
    exclude: b.exclude,
    startedAt: b.startedAt.toISOString(),
    finishedAt: b.finishedAt.toISOString(),
    tool: { name: 'bo', version: TOOL_VERSION },
    compression: plan.compression,
    encryption: plan.encrypted ? { type: 'age', recipients: job.encryption!.recipients } : null,
    archive: storedObject(plan.archiveName, streamed.archive),
    index: storedObject(plan.indexName, streamed.index),
    dumps: b.dumps,
    stats: {
      files: streamed.stats.files,
      dirs: streamed.stats.dirs,
      bytes: streamed.stats.bytes,
      tarBytes: streamed.stats.tarBytes,
    },
    warnings: b.warnings,
    snapshot: b.snapshot,
    chain: b.chain,
  };
}

/** The object's bytes; undefined when it does not exist. */
async function readBack(storage: Storage, key: string): Promise<Buffer | undefined> {
  try {
    return await buffer(await storage.get(key, { signal: AbortSignal.timeout(READ_BACK_MS) }));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** A signal that aborts `ms` after `signal` does. */
function afterGrace(signal: AbortSignal, ms: number): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    timer = setTimeout(() => ac.abort(signal.reason), ms);
  };
  if (signal.aborted) start();
  else signal.addEventListener('abort', start, { once: true });
  return {
    signal: ac.signal,
    dispose() {
      clearTimeout(timer);
      signal.removeEventListener('abort', start);
    },
  };
}
