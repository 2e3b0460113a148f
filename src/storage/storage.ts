import type { Readable } from 'node:stream';

/** One stored object as listed. Keys are relative to the storage target's prefix/path. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  etag?: string | undefined;
  /** From `stat` only: the SHA-256 recorded when a put had `expect` (S3 metadata), if any. */
  sha256?: string | undefined;
  /** From `stat` only: set for an object in an archive tier, which must be restored to be read. */
  tier?: TierState | undefined;
}

/**
 * An object in an archive tier (S3 GLACIER, DEEP_ARCHIVE, Intelligent-Tiering's archive tiers):
 * `archived` cannot be read until a restore (`requestRestore`) has finished; `restoring` is on
 * its way; `restored` is readable (a temporary copy) until `until`.
 */
export type TierState =
  | { state: 'archived'; storageClass: string }
  | { state: 'restoring'; storageClass: string }
  | { state: 'restored'; storageClass: string; until?: Date | undefined };

/** How a tier restore is requested: how long the restored copy stays, and how fast (and dear) it is. */
export interface RestoreRequestOptions {
  days: number;
  /** S3 retrieval tier: Expedited (minutes, GLACIER only), Standard (hours), Bulk (cheapest, slowest). */
  speed: 'Expedited' | 'Standard' | 'Bulk';
  signal?: AbortSignal | undefined;
}

/** Where server-side copies can come from: storages with the same `scope` share one endpoint and one set of credentials. */
export interface ServerSide {
  scope: string;
  /** The bucket and full key (prefix included) of `key`. */
  locate(key: string): { bucket: string; key: string };
}

export interface CopyInOptions {
  /** Size and SHA-256 the copy must have (from the manifest). */
  expect: { size: number; sha256: string };
  /** As PutOptions.bulk: the object gets the target's storage class. */
  bulk?: boolean;
  signal?: AbortSignal | undefined;
}

/** What `put` stored, after it verified the stored size (and, where possible, content). */
export interface PutResult {
  key: string;
  size: number;
  /** Hex SHA-256 of the bytes stored. */
  sha256: string;
}

export interface PutOptions {
  signal?: AbortSignal | undefined;
  /** Called with the running byte count as data is accepted. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** Create only if absent (S3 If-None-Match: *, filesystem O_EXCL); rejects with AlreadyExistsError. */
  ifNoneMatch?: boolean;
  contentType?: string;
  /**
   * Bulk backup data (archives, dumps): the S3 backend stores it in the target's `storageClass`.
   * Everything else (manifests, indexes, catalogs, locks) is small, read on every listing or
   * rewritten by heartbeats, and stays in the standard class: an infrequent-access class would
   * bill each lock refresh a 30-day minimum, an archive class would make them unreadable.
   */
  bulk?: boolean;
  /**
   * The most bytes the body can hold, when known (a volume's size): the S3 backend cuts parts
   * no larger than that needs, so memory stays small. Without it, parts grow with the upload.
   */
  sizeHint?: number;
  /**
   * What the body must be (a copy of an object whose manifest records it): the put rejects with
   * IntegrityError and leaves nothing at `key` when the bytes differ, checked before the object
   * becomes visible. The S3 backend also records the SHA-256 on the object (metadata
   * `bo-sha256`), which `stat` returns, so a later run can tell a verified copy without reading it.
   */
  expect?: { size: number; sha256: string };
}

export interface GetOptions {
  signal?: AbortSignal | undefined;
  /** Inclusive byte range. */
  range?: { start: number; end: number };
}

/** A multipart upload (S3) or temp file (filesystem) that never completed. */
export interface IncompleteUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** Object Lock retention on a stored object, where the backend supports it. */
export interface Retention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  until: Date;
}

export interface ListOptions {
  signal?: AbortSignal;
  /**
   * A storage that meets the incomplete uploads under `prefix` while listing it (a filesystem
   * walks past its temp files) adds them to `uploads` and sets `complete` once the listing ran to
   * its end: then `listIncomplete(prefix)` need not walk it all again. S3 leaves it untouched.
   */
  incomplete?: { uploads: IncompleteUpload[]; complete: boolean };
  /**
   * A listing expected to be big (prune's of a whole job): a filesystem walks it on a thread of
   * its own (storage/fs-walk-thread.ts). S3 lists the same either way.
   */
  bulk?: boolean;
}

/**
 * A place backups are kept. Every implementation passes tests/integration/storage/contract.ts.
 *
 * Contract:
 * - `put` streams `body` with bounded memory, whatever its length. It resolves only once the
 *   object is complete at `key` and its stored size (and checksum, where the backend can tell)
 *   matched what was sent. If it rejects or `signal` aborts, nothing is left at `key`: S3
 *   multipart uploads are aborted, temp files removed. An existing object at `key` is replaced
 *   atomically (readers see the old or the new, never a mix) unless `ifNoneMatch` is set.
 * - `get` rejects with NotFoundError for a missing key.
 * - `stat` resolves undefined for a missing key.
 * - `list` yields every object whose key starts with `prefix`, in lexical key order. It throws
 *   on any error rather than yielding a partial listing silently.
 * - `delete` is idempotent: deleting a missing key succeeds.
 * - `extendRetention` makes the object's Object Lock retention last at least until `until` and
 *   never shortens it: an object already locked as long or longer is left as it is; a shorter
 *   (or expired) lock is extended in the mode it has; an unlocked object is locked in the
 *   storage's configured mode, and left unlocked when the storage locks nothing. It resolves
 *   with the retention in force afterwards (undefined: none), and rejects with NotFoundError for
 *   a missing key. The filesystem has no locks: there it only checks that the key exists.
 * - Credential, bucket and network failures reject with StorageError with a readable message.
 * - `copyIn` makes the server copy another storage's object to `key` without the bytes passing
 *   through bo, when both share an endpoint and credentials (`serverSide.scope`) and one request
 *   can do it; otherwise it resolves undefined and the caller streams (get → put). A copy is
 *   checked against `expect` (the server's SHA-256 of it, else read back) and removed if it
 *   differs, rejecting with IntegrityError; like `put`, it leaves nothing at `key` on failure.
 * - `requestRestore` asks for a temporary readable copy of an object in an archive tier (see
 *   `stat`'s `tier`); it resolves once requested (a restore already under way is fine). Backends
 *   without tiers do nothing.
 */
export interface Storage {
  readonly name: string;
  readonly type: 's3' | 'filesystem';
  /** Human description such as "s3://bucket/prefix" or "/var/lib/bo/repo". */
  readonly location: string;
  /** The largest object bo writes here: bigger archives are stored in volumes (storage/volumes.ts). */
  readonly volumeSize: number;
  put(key: string, body: Readable | Buffer, opts?: PutOptions): Promise<PutResult>;
  get(key: string, opts?: GetOptions): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo | undefined>;
  list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
  listIncomplete(prefix: string): AsyncIterable<IncompleteUpload>;
  abortIncomplete(upload: IncompleteUpload): Promise<void>;
  /**
   * Whether objects here can carry Object Lock retention (S3); when false, `retention` always
   * answers undefined and callers need not ask it key by key.
   */
  readonly lockable: boolean;
  /** Object Lock retention in force on `key`, if any. */
  retention(key: string): Promise<Retention | undefined>;
  /** Set when this storage can be the source of server-side copies (S3). */
  readonly serverSide?: ServerSide | undefined;
  copyIn(from: Storage, fromKey: string, key: string, opts: CopyInOptions): Promise<PutResult | undefined>;
  requestRestore(key: string, opts: RestoreRequestOptions): Promise<void>;
  /** Extends the Object Lock retention of `key` to at least `until` (see the contract above). */
  extendRetention(key: string, until: Date, opts?: { signal?: AbortSignal }): Promise<Retention | undefined>;
  close(): Promise<void>;
}
