/**
 * Per-file SHA-256 over reader events, shared by the indexer, the guard and the extractor so a
 * hash computed at backup time and one computed at restore time mean the same thing: the SHA-256
 * of the file's real content, holes of sparse files read as zeros.
 */
import { createHash, type Hash } from 'node:crypto';
import { IntegrityError } from '../errors.ts';
import type { IndexEntry } from './tar-index.ts';
import { normalizeMember } from './tar-path.ts';
import type { TarEntry, TarEvent } from './tar-reader.ts';

const ZEROS = Buffer.alloc(1024 * 1024);

/** SHA-256 of content that arrives as (bytes, file offset) pieces in increasing order. */
export class ContentHash {
  readonly #hash: Hash = createHash('sha256');
  #pos = 0;

  update(data: Buffer, offset: number): void {
    if (offset < this.#pos) throw new IntegrityError('file content out of order');
    this.#zeros(offset - this.#pos);
    this.#hash.update(data);
    this.#pos = offset + data.length;
  }

  /** Hex digest of the content padded with zeros to `size`. */
  digest(size: number): string {
    this.#zeros(size - this.#pos);
    return this.#hash.digest('hex');
  }

  #zeros(n: number): void {
    for (; n > 0; n -= ZEROS.length) this.#hash.update(n >= ZEROS.length ? ZEROS : ZEROS.subarray(0, n));
  }
}

/** The index record of an entry (without its hash). Names are normalised; unsafe ones throw. */
export function toIndexEntry(e: TarEntry): IndexEntry {
  const out: IndexEntry = {
    path: normalizeMember(e.path),
    type: e.type,
    size: e.size,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime,
  };
  if (e.uname !== undefined) out.uname = e.uname;
  if (e.gname !== undefined) out.gname = e.gname;
  if (e.type === 'hardlink') out.linkpath = normalizeMember(e.linkpath!, 'hardlink target');
  else if (e.linkpath !== undefined) out.linkpath = e.linkpath;
  if (e.sparse) out.sparse = true;
  if (e.xattrs) out.xattrs = e.xattrs;
  if (e.attrs) out.attrs = Object.fromEntries(e.attrs.map(([k, v]) => [k, v.toString('base64')]));
  if (e.acl) out.acl = e.acl;
  if (e.nonUtf8) out.nonUtf8 = true;
  if (e.dumpdir) out.dumpdir = e.dumpdir;
  return out;
}

/**
 * Consumes reader events and calls `emit` once per entry, in archive order, when it is complete
 * (files after their last byte, with `sha256`), with the stream offset of its first header block.
 */
export function createEntryHasher(emit: (e: IndexEntry, offset: number) => void): (ev: TarEvent) => void {
  let current: IndexEntry | undefined;
  let offset = 0;
  let hash: ContentHash | undefined;
  return (ev) => {
    if (ev.type === 'entry') {
      current = toIndexEntry(ev.entry);
      offset = ev.entry.offset;
      hash = current.type === 'file' ? new ContentHash() : undefined;
    } else if (ev.type === 'data') {
      hash?.update(ev.data, ev.offset);
    } else if (current) {
      if (hash) current.sha256 = hash.digest(current.size);
      const done = current;
      current = undefined;
      hash = undefined;
      emit(done, offset);
    }
  };
}
