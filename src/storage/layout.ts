/**
 * The storage layout: the one owner of every key bo writes or reads in a storage target, relative
 * to its prefix (S3) or directory (filesystem). Pure string functions. The layout is a stored
 * format (README "Storage layout"): existing repositories must keep working, so a change here is
 * a format change.
 *
 *   <job>/<backup-id>/manifest.json   a backup's commit point, written last
 *   <job>/<backup-id>/<name>          its archive, index and dumps (names recorded in the manifest)
 *   <job>/<backup-id>/<name>.00002    their further volumes, when larger than a volume (format 3)
 *   _bo/catalog/<job>.json.zst        the job's catalog (catalog/catalog.ts)
 *   _bo/catalog-summary/<job>.jsonl.zst   what listing and prune need of each cataloged backup
 *   _bo/locks/<scope>/<epoch>.json    lock epochs (storage/lock.ts); a job's scope is job/<job>
 *
 * `_bo/` cannot clash with a job folder: job names start with a letter or digit.
 */

export const MANIFEST_NAME = 'manifest.json';
export const CATALOG_ROOT = '_bo/catalog/';
export const LOCK_ROOT = '_bo/locks/';
const CATALOG_SUFFIX = '.json.zst';
const EPOCH_DIGITS = 12;

/** A backup, as far as its keys are concerned. */
export interface BackupKeyRef {
  job: string;
  id: string;
}

/** `<job>/`: everything stored for a job's backups. */
export function jobPrefix(job: string): string {
  return `${job}/`;
}

/** `<job>/<id-start>`: the backups of a job whose ids start so (ids start with their UTC date). */
export function backupIdPrefix(job: string, idStart: string): string {
  return `${jobPrefix(job)}${idStart}`;
}

/** `<job>/<backup-id>/`. */
export function backupFolder(job: string, id: string): string {
  return `${jobPrefix(job)}${id}/`;
}

/** An object of a backup, by the name its manifest records (e.g. "archive.tar.zst.age"). */
export function objectKey(ref: BackupKeyRef, name: string): string {
  return `${backupFolder(ref.job, ref.id)}${name}`;
}

const VOLUME_DIGITS = 5;

/**
 * The name of volume `n` (1-based) of an object stored in volumes: the first keeps the object's
 * name, so an object within one volume looks as it always did; the others add a zero-padded
 * number (`archive.tar.zst.00002`), which keeps a glob (`archive.tar.zst*`) in volume order.
 */
export function volumeName(name: string, n: number): string {
  return n === 1 ? name : `${name}.${String(n).padStart(VOLUME_DIGITS, '0')}`;
}

export function manifestKey(job: string, id: string): string {
  return objectKey({ job, id }, MANIFEST_NAME);
}

/** Splits `<job>/<id>/<name>`; undefined for a key of any other shape. */
export function parseBackupKey(key: string): (BackupKeyRef & { name: string }) | undefined {
  const parts = key.split('/');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return undefined;
  return { job: parts[0], id: parts[1], name: parts[2] };
}

/** Splits `<job>/<id>/manifest.json`; undefined for any other key. */
export function parseManifestKey(key: string): BackupKeyRef | undefined {
  const p = parseBackupKey(key);
  return p?.name === MANIFEST_NAME ? { job: p.job, id: p.id } : undefined;
}

/** The folder (`<job>/<id>/`) a backup object's key lies in. */
export function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

export function catalogKey(job: string): string {
  return `${CATALOG_ROOT}${job}${CATALOG_SUFFIX}`;
}

/** The catalog's summary: one short line per backup, for `bo list` and prune (catalog/summaries.ts). */
export function catalogSummaryKey(job: string): string {
  return `_bo/catalog-summary/${job}.jsonl.zst`;
}

/** The job a listed catalog key belongs to; undefined for any other key. */
export function parseCatalogKey(key: string): string | undefined {
  if (!key.startsWith(CATALOG_ROOT) || !key.endsWith(CATALOG_SUFFIX)) return undefined;
  const job = key.slice(CATALOG_ROOT.length, -CATALOG_SUFFIX.length);
  return job && !job.includes('/') ? job : undefined;
}

/** The lock scope that serialises a job's backups and prunes. */
export function jobLockScope(job: string): string {
  return `job/${job}`;
}

/** `_bo/locks/<scope>/`: every epoch of a lock scope. */
export function lockScopeFolder(scope: string): string {
  return `${LOCK_ROOT}${scope}/`;
}

export function lockEpochKey(scope: string, epoch: number): string {
  return `${lockScopeFolder(scope)}${String(epoch).padStart(EPOCH_DIGITS, '0')}.json`;
}

/** `_bo/locks/job/files1/000000000007.json` → { scope: "job/files1", epoch: 7 }. */
export function parseLockEpochKey(key: string): { scope: string; epoch: number } | undefined {
  if (!key.startsWith(LOCK_ROOT)) return undefined;
  const m = /^(.+)\/(\d{12})\.json$/.exec(key.slice(LOCK_ROOT.length));
  return m ? { scope: m[1]!, epoch: Number(m[2]) } : undefined;
}
