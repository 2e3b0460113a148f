import { mkdir, readdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AgeIdentity } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { extractTar } from '../archive/extract.ts';
import { createTarGuard } from '../archive/tar-guard.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import type { BackupRef } from '../catalog/backups.ts';
import { decodeStages, openVerified, readIndex } from '../catalog/objects.ts';
import { BoError, errorMessage, IntegrityError, isAbortError, UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { shellQuote } from '../plan/shell.ts';
import { parseCaps, probeCommand, tarExtractCommand } from '../plan/tar.ts';
import type { Host } from '../remote/host.ts';
import { collectTail } from '../remote/stderr-tail.ts';
import type { Storage } from '../storage/storage.ts';
import { allOrAbort } from './all-or-abort.ts';

export type RestoreTarget = { kind: 'local'; dir: string } | { kind: 'host'; host: Host; dir: string };

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
  onProgress?: (p: { files: number; bytes: number; totalFiles: number; totalBytes: number }) => void;
}

export interface RestoreResult {
  files: number;
  bytes: number;
  target: string;
}

/** Archive member name for a user-given path: "/srv/share/" → "srv/share". */
export function memberPath(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

function selected(path: string, include: string[]): boolean {
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

  const index = await readIndex(storage, ref, req.identities, signal);
  const wanted = new Map<string, IndexEntry>();
  for (const e of index) if (selected(e.path, include)) wanted.set(e.path, e);
  for (const i of include) {
    if (!index.some((e) => selected(e.path, [i])))
      throw new UsageError(`path /${i} is not in backup ${ref.job}/${ref.id}`);
  }
  const wantedFiles = [...wanted.values()].filter((e) => e.type === 'file');
  const totalBytes = wantedFiles.reduce((n, e) => n + e.size, 0);
  await prepareTarget(req.target, req.force ?? false, signal);

  const seen = new Set<string>();
  let bytes = 0;
  const onEntry = (path: string, size: number) => {
    seen.add(path);
    bytes += size;
    req.onProgress?.({ files: seen.size, bytes, totalFiles: wantedFiles.length, totalBytes });
  };
  const ac = new AbortController();
  const sig = AbortSignal.any([signal, ac.signal]);
  const archive = await openVerified(storage, ref, ref.manifest.archive, sig);
  const plain = chainStreams(
    archive.stream,
    decodeStages(ref.manifest, ref.manifest.compression, req.identities),
  );
  log.info({ job: ref.job, backupId: ref.id, target: describe(req.target) }, 'Restore started');
  try {
    if (req.target.kind === 'local') {
      await extractTar(plain, req.target.dir, {
        signal: sig,
        include,
        expect: (p) => wanted.get(p),
        onEntry,
      });
    } else {
      await extractOnHost(plain, req.target, include, wanted, onEntry, sig, () => ac.abort());
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
  log.info({ files: seen.size, bytes }, 'Restore verified');
  return { files: wantedFiles.length, bytes: totalBytes, target: describe(req.target) };
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

async function extractOnHost(
  plain: Readable,
  target: Extract<RestoreTarget, { kind: 'host' }>,
  include: string[],
  wanted: Map<string, IndexEntry>,
  onEntry: (path: string, size: number) => void,
  signal: AbortSignal,
  abort: () => void,
): Promise<void> {
  const caps = parseCaps((await target.host.run(probeCommand(), { signal })).stdout);
  const proc = await target.host.exec(
    tarExtractCommand({ dir: target.dir, asRoot: caps.root, caps, paths: include }),
    {
      signal,
    },
  );
  const stderr = collectTail(proc.stderr);
  const guard = createTarGuard({
    signal,
    onEntry: (e: IndexEntry) => {
      if (!selected(e.path, include)) return;
      const expected = wanted.get(e.path);
      if (e.type === 'file' && expected?.sha256 && e.sha256 !== expected.sha256) {
        throw new IntegrityError(`/${e.path}: content SHA-256 does not match the index`);
      }
      onEntry(e.path, e.size);
    },
  });
  const [, exit] = await allOrAbort(
    [pipeline(plain, guard, proc.stdin, { signal }), proc.done] as const,
    () => {
      abort();
      proc.kill();
    },
  );
  if (exit.code !== 0)
    throw new BoError(`tar -x on ${target.host.name} exited ${exit.code}: ${stderr().trim().slice(-2000)}`);
}
