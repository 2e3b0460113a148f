import { mkdir, readdir } from 'node:fs/promises';
import type { AgeIdentity } from '../archive/age/index.ts';
import { applyAttrs } from '../archive/attrs.ts';
import { chainStreams } from '../archive/chain.ts';
import { extractTar } from '../archive/extract.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import type { BackupRef } from '../catalog/backups.ts';
import { readBackupIndex } from '../catalog/chain-index.ts';
import { checkStored, decodeStages, openVerified } from '../catalog/objects.ts';
import { BoError, errorMessage, IntegrityError, isAbortError, UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { shellQuote } from '../plan/shell.ts';
import type { Host } from '../remote/host.ts';
import { countingStorage, type ReadCounter } from '../storage/counting.ts';
import type { Storage } from '../storage/storage.ts';
import { seekPlan } from './archive-members.ts';
import { chainTarStream, memberTargets, seekTarStream } from './restore-chain.ts';
import { extractOnHost } from './restore-remote.ts';
import { finishKeptDirs, indexAttrs, type Kept, keepRestored } from './restore-resume.ts';

export type RestoreTarget = { kind: 'local'; dir: string } | { kind: 'host'; host: Host; dir: string };

export interface RestoreProgress {
  /** Regular files restored so far, of `totalFiles`. */
  files: number;
  /** Content bytes read so far (sparse holes counted when their file ends), of `totalBytes`. */
  bytes: number;
  totalFiles: number;
  totalBytes: number;
  /** --resume: bytes of the files kept from before, counted in `bytes` from the start. */
  keptBytes?: number;
}

export interface RestoreRequest {
  storage: Storage;
  ref: BackupRef;
  target: RestoreTarget;
  /** Archive paths to restore (files or directories); default everything. */
  include?: string[];
  force?: boolean;
  /**
   * Continue an interrupted local restore: keep every selected file already in the target whose
   * size and SHA-256 match the index, and restore the rest (restore-resume.ts).
   */
  resume?: boolean;
  /** Read archives whole, each checked against its manifest, even for a few files (no seeking). */
  whole?: boolean;
  identities?: AgeIdentity[] | undefined;
  signal: AbortSignal;
  log: Logger;
  onProgress?: (p: RestoreProgress) => void;
  /** Called with the backups whose archives the restore reads, before it reads any (tier restores). */
  beforeRead?: ((chain: readonly BackupRef[]) => Promise<void>) | undefined;
}

export interface RestoreResult {
  files: number;
  bytes: number;
  target: string;
  /** Files restored besides the selection because selected hardlinks point to them. */
  added: string[];
  /** What was not restored as stored (device nodes without root, xattrs locally), one line each. */
  warnings: string[];
  /** What the restore read from storage: manifests, indexes and the parts of archives it needed. */
  read: ReadCounter;
  /** --resume: files that were already in place and kept. */
  kept?: number;
}

/** Archive member name for a user-given path: "/srv/share/" → "srv/share". */
export function memberPath(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

function selected(path: string, include: readonly string[]): boolean {
  return include.length === 0 || include.some((i) => path === i || path.startsWith(`${i}/`));
}

/**
 * Streams a backup back from storage and extracts it, verifying as it goes: per-file SHA-256
 * against the index, every selected file present, and the archive object's size and SHA-256
 * against the manifest. Success is reported only when all of that holds.
 */
export async function restoreBackup(req: RestoreRequest): Promise<RestoreResult> {
  const { ref, signal, log } = req;
  const read: ReadCounter = { bytes: 0, requests: 0 };
  const storage = countingStorage(req.storage, read);
  const include = (req.include ?? []).map(memberPath);
  decodeStages(ref.manifest, ref.manifest.compression, req.identities); // fails early without an identity

  // An incremental restores from its whole chain: the index is the tree the chain rebuilds.
  const { chain, entries: index } = await readBackupIndex(storage, ref, req.identities, signal);
  for (const b of chain) decodeStages(b.manifest, b.manifest.compression, req.identities);
  await req.beforeRead?.(chain);
  for (const i of include) {
    if (!index.some((e) => selected(e.path, [i])))
      throw new UsageError(`path /${i} is not in backup ${ref.job}/${ref.id}`);
  }
  const { wanted, added } = selection(index, include);
  include.push(...added);
  const wantedFiles = [...wanted.values()].filter((e) => e.type === 'file');
  const totalBytes = wantedFiles.reduce((n, e) => n + e.size, 0);
  if (req.resume && req.target.kind !== 'local')
    throw new UsageError('--resume continues a restore into a local directory (--to DIR)');
  await prepareTarget(req.target, (req.force ?? false) || (req.resume ?? false), signal);
  // --resume: what an interrupted restore already put in place is kept, and not read again.
  const kept =
    req.resume && req.target.kind === 'local'
      ? await keepRestored(req.target.dir, wanted, { asRoot: isRoot(), signal })
      : undefined;
  const toRead = kept ? unkept(wanted, kept) : wanted;
  if (kept) log.info({ kept: kept.paths.size, bytes: kept.bytes, removed: kept.removed }, 'Restore resumed');

  const seen = new Set<string>(kept?.paths);
  const progress: RestoreProgress = {
    files: kept?.paths.size ?? 0,
    bytes: kept?.bytes ?? 0,
    totalFiles: wantedFiles.length,
    totalBytes,
    ...(kept ? { keptBytes: kept.bytes } : {}),
  };
  let fileBytes = 0; // of the file being read, to count its holes when it ends
  const onData = (n: number) => {
    progress.bytes += n;
    fileBytes += n;
    req.onProgress?.(progress);
  };
  const onEntry = (path: string, size: number, type: IndexEntry['type']) => {
    seen.add(path);
    if (type === 'file') {
      progress.files++;
      progress.bytes += size - fileBytes;
    }
    fileBytes = 0;
    req.onProgress?.(progress);
  };
  const ac = new AbortController();
  const sig = AbortSignal.any([signal, ac.signal]);
  const streamOpts = {
    storage,
    chain,
    wanted: toRead,
    index,
    identities: req.identities,
    signal: sig,
    whole: req.whole ?? false,
  };
  // A standalone archive restored whole is read as it is stored, checked against the manifest at
  // its end; a few files of a seekable one are read from their frames, each file checked by its
  // hash; a chain's stream is assembled from its archives (restore-chain.ts).
  const whole =
    chain.length === 1 && (req.whole || !seekPlan({ ref, members: memberTargets(toRead.values()), index }));
  const archive = whole
    ? await openVerified(storage, ref, ref.manifest.archive, sig)
    : {
        stream: chain.length === 1 ? seekTarStream(streamOpts) : chainTarStream(streamOpts),
        check: () => {}, // archives read to their end are checked as the stream reads them
      };
  const plain = whole
    ? chainStreams(archive.stream, decodeStages(ref.manifest, ref.manifest.compression, req.identities))
    : archive.stream;
  log.info(
    { job: ref.job, backupId: ref.id, chain: chain.length, seek: !whole, target: describe(req.target) },
    'Restore started',
  );
  const warnings: string[] = [];
  try {
    if (req.target.kind === 'local') {
      const stats = await extractTar(plain, req.target.dir, {
        signal: sig,
        include,
        expect: (p) => wanted.get(p),
        onEntry,
        onData,
        kept: kept && new Set([...kept.paths, ...kept.dirs.map((d) => d.path)]),
      });
      warnings.push(...stats.warnings.map((w) => `/${w}`));
      if (kept) await finishKeptDirs(req.target.dir, kept, isRoot());
      // Attributes last: writing a file or changing its owner clears its capabilities. Kept
      // entries get theirs from the index.
      const attrs = new Map(stats.attrs);
      for (const p of [...(kept?.paths ?? []), ...(kept?.dirs ?? []).map((d) => d.path)]) {
        const a = indexAttrs(wanted.get(p)!);
        if (a) attrs.set(p, a);
      }
      warnings.push(...(await applyAttrs(req.target.dir, attrs, { asRoot: isRoot(), signal: sig })));
      warnings.push(...ownerWarning(wanted.values()));
    } else {
      await extractOnHost(plain, {
        host: req.target.host,
        dir: req.target.dir,
        include,
        wanted,
        isSelected: (p) => selected(p, include),
        onEntry: (e) => onEntry(e.path, e.size, e.type),
        onData,
        signal: sig,
        abort: () => ac.abort(),
      });
    }
  } catch (err) {
    ac.abort(err);
    if (signal.aborted || isAbortError(err)) throw err;
    // A corrupted object usually surfaces first as a cryptic decode error, before its end was
    // read: read it whole to name the real cause.
    if (!(err instanceof BoError) && whole) {
      const stored = await checkStored(storage, ref, ref.manifest.archive, signal).catch(() => undefined);
      if (stored) throw failed(req.target, stored);
    }
    throw failed(req.target, err);
  }
  try {
    archive.check();
  } catch (err) {
    throw failed(req.target, err);
  }
  const missing = wantedFiles.filter((e) => !seen.has(e.path));
  if (missing.length > 0) {
    throw failed(
      req.target,
      new IntegrityError(
        `${missing.length} file(s) listed in the index are missing from the archive, e.g. /${missing[0]!.path}`,
      ),
    );
  }
  // Info, not warn: the result carries them and the CLI prints them; a log line would repeat them.
  for (const w of warnings)
    log.info({ job: ref.job, backupId: ref.id, warning: w }, 'Not restored as stored');
  log.info({ files: progress.files, bytes: progress.bytes }, 'Restore verified');
  return {
    files: wantedFiles.length,
    bytes: totalBytes,
    target: describe(req.target),
    added: added.map((p) => `/${p}`),
    warnings,
    read,
    ...(kept ? { kept: kept.paths.size } : {}),
  };
}

/** The selection without what --resume keeps. */
function unkept<E extends IndexEntry>(wanted: ReadonlyMap<string, E>, kept: Kept): Map<string, E> {
  const dirs = new Set(kept.dirs.map((d) => d.path));
  return new Map([...wanted].filter(([p]) => !kept.paths.has(p) && !dirs.has(p)));
}

/**
 * The index entries to restore for `include`, plus the files that selected hardlinks point to
 * when those are not selected themselves: a hardlink can only be made to a file the restore
 * wrote (tar stores the content once, with the first name).
 */
export function selection<E extends IndexEntry>(
  index: readonly E[],
  include: readonly string[],
): { wanted: Map<string, E>; added: string[] } {
  const wanted = new Map<string, E>();
  for (const e of index) if (selected(e.path, include)) wanted.set(e.path, e);
  const added: string[] = [];
  const targets = new Set<string>();
  for (const e of wanted.values())
    if (e.type === 'hardlink' && e.linkpath && !wanted.has(e.linkpath)) targets.add(e.linkpath);
  if (targets.size === 0) return { wanted, added };
  for (const e of index) {
    if (targets.has(e.path) && !wanted.has(e.path)) {
      wanted.set(e.path, e);
      added.push(e.path);
    }
  }
  return { wanted, added };
}

function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

/** Without root, files keep the restoring user as owner: say which would have had another. */
function ownerWarning(entries: Iterable<IndexEntry>): string[] {
  if (isRoot()) return [];
  const uid = process.geteuid?.();
  const gid = process.getegid?.();
  let count = 0;
  let first: IndexEntry | undefined;
  for (const e of entries) {
    if (e.type === 'hardlink' || (e.uid === uid && e.gid === gid)) continue;
    count++;
    first ??= e;
  }
  if (!first) return [];
  return [
    `owners not restored: ${count} entr${count === 1 ? 'y belongs' : 'ies belong'} to another user or group (e.g. /${first.path}, ${first.uname ?? first.uid}:${first.gname ?? first.gid}); restore as root to keep them`,
  ];
}

function failed(target: RestoreTarget, err: unknown): BoError {
  const msg = `restore FAILED: ${errorMessage(err)}. What was written to ${describe(target)} is incomplete and must not be trusted.`;
  return err instanceof BoError ? new IntegrityError(msg, { cause: err }) : new BoError(msg, { cause: err });
}

function describe(t: RestoreTarget): string {
  return t.kind === 'local' ? t.dir : `${t.host.name}:${t.dir}`;
}

async function prepareTarget(t: RestoreTarget, force: boolean, signal: AbortSignal): Promise<void> {
  if (t.kind === 'local') {
    await mkdir(t.dir, { recursive: true });
    if (!force && (await readdir(t.dir)).length > 0) {
      throw new UsageError(`target ${t.dir} is not empty; pass --force to restore into it anyway`);
    }
    return;
  }
  if (!t.dir.startsWith('/')) throw new UsageError(`remote target directory must be absolute, got ${t.dir}`);
  const q = shellQuote(t.dir);
  const r = await t.host.run(`mkdir -p ${q} && ls -A ${q} | head -n 1`, { signal });
  if (r.code !== 0) throw new BoError(`cannot create ${t.host.name}:${t.dir}: ${r.stderr.trim()}`);
  if (!force && r.stdout.trim() !== '') {
    throw new UsageError(
      `target ${t.host.name}:${t.dir} is not empty; pass --force to restore into it anyway`,
    );
  }
}
