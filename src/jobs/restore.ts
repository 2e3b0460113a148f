import { mkdir, readdir } from 'node:fs/promises';
import type { AgeIdentity } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { extractTar } from '../archive/extract.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import type { BackupRef } from '../catalog/backups.ts';
import { readBackupIndex } from '../catalog/chain-index.ts';
import { decodeStages, openVerified } from '../catalog/objects.ts';
import { BoError, errorMessage, IntegrityError, isAbortError, UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { shellQuote } from '../plan/shell.ts';
import type { Host } from '../remote/host.ts';
import type { Storage } from '../storage/storage.ts';
import { chainTarStream } from './restore-chain.ts';
import { extractOnHost } from './restore-remote.ts';

export type RestoreTarget = { kind: 'local'; dir: string } | { kind: 'host'; host: Host; dir: string };

export interface RestoreProgress {
  /** Regular files restored so far, of `totalFiles`. */
  files: number;
  /** Content bytes read so far (sparse holes counted when their file ends), of `totalBytes`. */
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

export interface RestoreRequest {
  storage: Storage;
  ref: BackupRef;
  target: RestoreTarget;
  /** Archive paths to restore (files or directories); default everything. */
  include?: string[];
  force?: boolean;
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
  const { storage, ref, signal, log } = req;
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
  await prepareTarget(req.target, req.force ?? false, signal);

  const seen = new Set<string>();
  const progress: RestoreProgress = { files: 0, bytes: 0, totalFiles: wantedFiles.length, totalBytes };
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
  const archive =
    chain.length === 1
      ? await openVerified(storage, ref, ref.manifest.archive, sig)
      : {
          stream: chainTarStream({ storage, chain, wanted, identities: req.identities, signal: sig }),
          check: () => {}, // each archive of the chain is checked as the stream reads it to its end
        };
  const plain =
    chain.length === 1
      ? chainStreams(archive.stream, decodeStages(ref.manifest, ref.manifest.compression, req.identities))
      : archive.stream;
  log.info(
    { job: ref.job, backupId: ref.id, chain: chain.length, target: describe(req.target) },
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
      });
      warnings.push(...stats.warnings.map((w) => `/${w}`), ...xattrWarning(wanted.values()));
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
    // A corrupted object usually surfaces first as a cryptic decode error: name the real cause.
    if (!(err instanceof BoError)) {
      try {
        archive.check();
      } catch (integrity) {
        throw failed(req.target, integrity);
      }
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
  };
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

/** Local restores cannot set xattrs/ACLs (Node has no API for them): say so when the index has any. */
function xattrWarning(entries: Iterable<IndexEntry>): string[] {
  let count = 0;
  let first: IndexEntry | undefined;
  for (const e of entries) {
    if (!e.xattrs?.length) continue;
    count++;
    first ??= e;
  }
  if (!first) return [];
  return [
    `${count} entr${count === 1 ? 'y has' : 'ies have'} extended attributes or ACLs that a local restore does not apply (e.g. /${first.path}: ${first.xattrs!.join(', ')}); restore with --to-host to keep them`,
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
