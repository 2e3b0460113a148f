/**
 * After a drill's restore: read the restored files back from disk and compare each with the
 * index. restoreBackup already checks every file's hash as it streams; this proves what landed
 * on the disk (and stayed there) is right too.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndexEntry } from '../archive/tar-index.ts';
import { shellQuote } from '../plan/shell.ts';
import type { Host } from '../remote/host.ts';
import { collectTail } from '../remote/stderr-tail.ts';

/** The content hash a restored path must have: files their own, hardlinks their target's. */
export function expectedHashes(
  selected: readonly IndexEntry[],
  all: readonly IndexEntry[],
): Map<string, string> {
  const byPath = new Map(all.map((e) => [e.path, e]));
  const out = new Map<string, string>();
  for (const e of selected) {
    if (e.nonUtf8) continue; // its name cannot be compared as text
    if (e.type === 'file' && e.sha256) out.set(e.path, e.sha256);
    if (e.type === 'hardlink' && e.linkpath) {
      const target = byPath.get(e.linkpath);
      if (target?.sha256) out.set(e.path, target.sha256);
    }
  }
  return out;
}

export async function checkLocalTree(
  dir: string,
  selected: readonly IndexEntry[],
  hashes: ReadonlyMap<string, string>,
  signal: AbortSignal,
): Promise<{ checked: number; problems: string[] }> {
  const problems: string[] = [];
  let checked = 0;
  for (const e of selected) {
    signal.throwIfAborted();
    if (e.path === '.') continue;
    const p = join(dir, e.path);
    const st = await lstat(p).catch(() => undefined);
    if (!st) {
      if (e.type !== 'char' && e.type !== 'block') problems.push(`/${e.path}: not restored`);
      continue;
    }
    const want = hashes.get(e.path);
    if (want) {
      if (!st.isFile()) problems.push(`/${e.path}: restored as something other than a file`);
      else if ((await hashFile(p, signal)) !== want)
        problems.push(`/${e.path}: content on disk does not match the index`);
      else checked++;
    } else if (e.type === 'symlink' && (await readlink(p).catch(() => undefined)) !== e.linkpath) {
      problems.push(`/${e.path}: symlink target differs from the index`);
    } else if (e.type === 'dir' && !st.isDirectory())
      problems.push(`/${e.path}: not restored as a directory`);
    if (problems.length >= 20) break;
  }
  return { checked, problems };
}

async function hashFile(path: string, signal: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The same on a server: GNU `sha256sum -z` over every regular file under `dir`, streamed and
 * compared as it arrives (NUL-separated, so any file name works).
 */
export async function checkRemoteTree(
  host: Host,
  dir: string,
  hashes: ReadonlyMap<string, string>,
  signal: AbortSignal,
): Promise<{ checked: number; problems: string[] }> {
  const proc = await host.exec(
    `cd -- ${shellQuote(dir)} && find . -type f -print0 | xargs -0 -r sha256sum -z --`,
    { signal },
  );
  const stderr = collectTail(proc.stderr);
  const seen = new Set<string>();
  const problems: string[] = [];
  let rest = Buffer.alloc(0);
  const take = (rec: Buffer) => {
    const line = rec.toString('utf8');
    const m = /^\\?([0-9a-f]{64}) [ *]\.\/(.*)$/s.exec(line);
    if (!m) return;
    const want = hashes.get(m[2]!);
    if (want === undefined) return;
    seen.add(m[2]!);
    if (want !== m[1]) problems.push(`/${m[2]}: content on ${host.name} does not match the index`);
  };
  for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
    let buf = Buffer.concat([rest, chunk]);
    for (let i = buf.indexOf(0); i >= 0; i = buf.indexOf(0)) {
      take(buf.subarray(0, i));
      buf = buf.subarray(i + 1);
    }
    rest = buf;
  }
  const exit = await proc.done;
  if (exit.code !== 0)
    problems.push(
      `checking the restored files on ${host.name} failed (exit ${exit.code}): ${stderr().trim().slice(-500)}`,
    );
  for (const path of hashes.keys()) {
    if (!seen.has(path) && problems.length < 20)
      problems.push(`/${path}: not found on ${host.name} after the restore`);
  }
  return { checked: seen.size, problems: problems.slice(0, 20) };
}
