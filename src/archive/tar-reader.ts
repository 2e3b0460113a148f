/**
 * A streaming tar reader: raw tar bytes in, events out (entry header, content bytes at their file
 * offset, end of entry). Used by the indexer, the local extractor and the guard.
 *
 * Why not node-tar's Parser: it keeps only the pax keys it knows (no GNU.sparse.*, no
 * SCHILY.xattr.*), splits pax records on newlines (a file name containing "\n" loses its pax
 * path), decodes multi-block pax headers chunk by chunk (a long UTF-8 name that straddles two
 * writes loses its pax path: the truncated ustar name comes out instead), does not know GNU
 * sparse members, and cannot say where in the stream a header started, which the guard needs to
 * stop before forwarding it. This reader is strict where node-tar warns and continues. Each
 * defect is asserted, against node-tar 7.5.23, in tests/unit/archive/node-tar-oracle.test.ts,
 * which also checks that both readers agree on ordinary archives.
 *
 * Memory is bounded: content bytes are handed out as views of the input chunks, only header
 * blocks and extended headers (at most 1 MiB each) are buffered.
 */
import { IntegrityError } from '../errors.ts';
import { ExtentCursor, SparseMap } from './sparse.ts';
import { FORBIDDEN_GLOBAL, type PendingHeaders, resolveEntry, type TarEntry } from './tar-entry.ts';
import { BLOCK, decodeHeader, isZeroBlock, parsePax } from './tar-header.ts';

export type { TarEntry, TarEntryType } from './tar-entry.ts';

/** What a member's headers said, as stored (raw mode): for rewriting the member under another name. */
export interface RawMember {
  /** The main header block (512 bytes). */
  header: Buffer;
  /** The member's own pax records, if it had an extended header. */
  pax: Map<string, Buffer> | undefined;
  /** Global pax records in force. */
  global: Map<string, Buffer>;
  /** Bytes of data (sparse map included) that follow the header, before padding. */
  dataSize: number;
  /**
   * The member's header blocks exactly as stored: its extended headers (pax, GNU long names)
   * and the main header block, for passing the member on unchanged (names byte for byte).
   */
  bytes: Buffer;
}

export type TarEvent =
  | { type: 'entry'; entry: TarEntry; raw?: RawMember }
  /** Raw mode: the member's data blocks exactly as stored (sparse map and padding included). */
  | { type: 'body'; data: Buffer }
  /** Content bytes of the current entry; `offset` is their position in the file (holes skipped). */
  | { type: 'data'; data: Buffer; offset: number }
  | { type: 'end' };

type State = 'header' | 'zero' | 'meta' | 'map' | 'data' | 'skip' | 'eof';

const MAX_META = 1024 * 1024;
const META_TYPES = new Set(['x', 'g', 'L', 'K']);

export class TarReader {
  #state: State = 'header';
  #pos = 0;
  readonly #block = Buffer.alloc(BLOCK);
  #fill = 0;
  #seqStart = -1;
  #pending: PendingHeaders = {};
  #global = new Map<string, Buffer>();
  #meta: { kind: string; size: number; parts: Buffer[]; got: number; at: number } | undefined;
  #skip = 0;
  #remain = 0;
  #fileOffset = 0;
  #entry: TarEntry | undefined;
  #map: SparseMap | undefined;
  #cursor: ExtentCursor | undefined;
  #events: TarEvent[] = [];
  /** Raw mode: also emit each member's header fields and stored data blocks (see RawMember). */
  readonly #raw: boolean;
  #skipIsBody = false;
  /** Raw mode: the header bytes of the member being read, from its first extended header on. */
  #rawHeader: Buffer[] = [];

  constructor(opts: { raw?: boolean } = {}) {
    this.#raw = opts.raw ?? false;
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.#pos;
  }

  /**
   * Stream offset up to which every byte belongs to a complete, already reported header or to
   * content: bytes of a header sequence still being read (a pax header waiting for its entry)
   * are after it.
   */
  get committed(): number {
    return this.#seqStart >= 0 ? this.#seqStart : this.#pos;
  }

  get finished(): boolean {
    return this.#state === 'eof';
  }

  /** Parses a chunk; throws IntegrityError on anything malformed. */
  write(chunk: Buffer): TarEvent[] {
    this.#events = [];
    let i = 0;
    while (i < chunk.length) i += this.#step(chunk, i);
    return this.#events;
  }

  /** Call at the end of input: throws unless the archive ended with its end-of-archive marker. */
  end(): void {
    if (this.#state === 'eof') return;
    if (this.#pos === 0) throw new IntegrityError('empty tar stream');
    const where = this.#entry ? ` inside ${JSON.stringify(this.#entry.path)}` : '';
    throw new IntegrityError(
      `tar stream truncated${where} after ${this.#pos} bytes (no end-of-archive marker)`,
    );
  }

  #step(buf: Buffer, i: number): number {
    const avail = buf.length - i;
    switch (this.#state) {
      case 'header':
      case 'zero': {
        if (this.#seqStart < 0) this.#seqStart = this.#pos;
        if (this.#fill === 0 && avail >= BLOCK) {
          this.#pos += BLOCK;
          if (this.#raw) this.#rawHeader.push(Buffer.from(buf.subarray(i, i + BLOCK)));
          this.#header(buf, i, this.#pos - BLOCK);
          return BLOCK;
        }
        const n = Math.min(BLOCK - this.#fill, avail);
        buf.copy(this.#block, this.#fill, i, i + n);
        this.#fill += n;
        this.#pos += n;
        if (this.#fill === BLOCK) {
          this.#fill = 0;
          if (this.#raw) this.#rawHeader.push(Buffer.from(this.#block));
          this.#header(this.#block, 0, this.#pos - BLOCK);
        }
        return n;
      }
      case 'meta': {
        const m = this.#meta!;
        const n = Math.min(m.size - m.got, avail);
        m.parts.push(Buffer.from(buf.subarray(i, i + n)));
        if (this.#raw) this.#rawHeader.push(m.parts[m.parts.length - 1]!);
        m.got += n;
        this.#pos += n;
        if (m.got === m.size) this.#finishMeta(m);
        return n;
      }
      case 'map': {
        const n = this.#map!.feed(buf, i, i + Math.min(avail, this.#remain));
        if (this.#raw) this.#events.push({ type: 'body', data: buf.subarray(i, i + n) });
        this.#remain -= n;
        this.#pos += n;
        if (this.#map!.done) {
          this.#cursor = new ExtentCursor(this.#map!.extents(this.#entry!.size, this.#remain));
          this.#state = 'data';
          if (this.#remain === 0) this.#endEntry();
        } else if (this.#remain === 0) {
          throw new IntegrityError(
            `corrupt sparse member ${JSON.stringify(this.#entry!.path)}: map runs past its data`,
          );
        }
        return n;
      }
      case 'data': {
        let n = Math.min(this.#remain, avail);
        let offset = this.#fileOffset;
        if (this.#cursor) {
          const next = this.#cursor.next();
          n = Math.min(n, next.room);
          offset = next.offset;
          this.#cursor.advance(n);
        }
        this.#events.push({ type: 'data', data: buf.subarray(i, i + n), offset });
        if (this.#raw) this.#events.push({ type: 'body', data: buf.subarray(i, i + n) });
        this.#fileOffset = offset + n;
        this.#remain -= n;
        this.#pos += n;
        if (this.#remain === 0) this.#endEntry();
        return n;
      }
      case 'skip': {
        const n = Math.min(this.#skip, avail);
        if (this.#raw && this.#skipIsBody) this.#events.push({ type: 'body', data: buf.subarray(i, i + n) });
        else if (this.#raw) this.#rawHeader.push(Buffer.from(buf.subarray(i, i + n)));
        this.#skip -= n;
        this.#pos += n;
        if (this.#skip === 0) this.#state = 'header';
        return n;
      }
      case 'eof': {
        for (let k = i; k < buf.length; k++) {
          if (buf[k] !== 0)
            throw new IntegrityError(
              `unexpected data after the end of the archive at byte ${this.#pos + k - i}`,
            );
        }
        this.#pos += avail;
        return avail;
      }
    }
  }

  #header(buf: Buffer, off: number, at: number): void {
    if (isZeroBlock(buf, off)) {
      if (this.#pending.pax || this.#pending.longName || this.#pending.longLink || this.#meta) {
        throw new IntegrityError(
          `extended header without an entry before the end of the archive at byte ${at}`,
        );
      }
      this.#state = this.#state === 'zero' ? 'eof' : 'zero';
      this.#seqStart = -1;
      this.#rawHeader = [];
      return;
    }
    if (this.#state === 'zero')
      throw new IntegrityError(`lone zero block in the middle of the archive at byte ${at - BLOCK}`);
    const h = decodeHeader(buf, off, at);
    if (META_TYPES.has(h.typeflag)) {
      if (h.size > MAX_META)
        throw new IntegrityError(`extended header of ${h.size} bytes at byte ${at} is too large`);
      const p = this.#pending;
      const dup =
        h.typeflag === 'x'
          ? p.pax
          : h.typeflag === 'L'
            ? p.longName
            : h.typeflag === 'K'
              ? p.longLink
              : undefined;
      if (dup) throw new IntegrityError(`repeated extended header at byte ${at}`);
      this.#meta = { kind: h.typeflag, size: h.size, parts: [], got: 0, at };
      if (h.size === 0) this.#finishMeta(this.#meta);
      else this.#state = 'meta';
      return;
    }
    const pending = this.#pending;
    const { entry, dataSize } = resolveEntry(h, pending, this.#global, this.#seqStart);
    this.#pending = {};
    this.#seqStart = -1;
    this.#entry = entry;
    this.#remain = dataSize;
    this.#fileOffset = 0;
    this.#cursor = undefined;
    this.#map = entry.sparse ? new SparseMap(entry.offset) : undefined;
    this.#skip = (BLOCK - (dataSize % BLOCK)) % BLOCK;
    this.#skipIsBody = true;
    if (this.#raw) {
      const header = Buffer.from(buf.subarray(off, off + BLOCK));
      const bytes = Buffer.concat(this.#rawHeader);
      this.#rawHeader = [];
      this.#events.push({
        type: 'entry',
        entry,
        raw: { header, pax: pending.pax, global: this.#global, dataSize, bytes },
      });
    } else this.#events.push({ type: 'entry', entry });
    if (this.#map) this.#state = dataSize > 0 ? 'map' : this.#failEmptySparse(entry);
    else if (dataSize > 0) this.#state = 'data';
    else this.#endEntry();
  }

  #failEmptySparse(entry: TarEntry): never {
    throw new IntegrityError(`corrupt sparse member ${JSON.stringify(entry.path)}: no map`);
  }

  #finishMeta(m: { kind: string; size: number; parts: Buffer[]; at: number }): void {
    const body = Buffer.concat(m.parts);
    this.#meta = undefined;
    if (m.kind === 'x') this.#pending.pax = parsePax(body, m.at);
    else if (m.kind === 'L' || m.kind === 'K') {
      const nul = body.indexOf(0);
      const name = nul === -1 ? body : body.subarray(0, nul);
      if (m.kind === 'L') this.#pending.longName = name;
      else this.#pending.longLink = name;
    } else {
      const g = parsePax(body, m.at);
      for (const key of g.keys()) {
        if (FORBIDDEN_GLOBAL.test(key))
          throw new IntegrityError(`global pax header sets ${key} at byte ${m.at}`);
      }
      this.#global = new Map([...this.#global, ...g]);
    }
    this.#skip = (BLOCK - (m.size % BLOCK)) % BLOCK;
    this.#skipIsBody = false;
    this.#state = this.#skip > 0 ? 'skip' : 'header';
  }

  #endEntry(): void {
    if (this.#entry?.type === 'file' && this.#fileOffset > this.#entry.size) {
      throw new IntegrityError(`entry ${JSON.stringify(this.#entry.path)} has more data than its size`);
    }
    this.#events.push({ type: 'end' });
    this.#entry = undefined;
    this.#state = this.#skip > 0 ? 'skip' : 'header';
  }
}
