/**
 * GNU sparse format 1.0, what GNU tar (1.34) writes for `--sparse` in `--format=posix`: the pax
 * header carries GNU.sparse.{major=1,minor=0,name,realsize}, the member is stored as
 * `…/GNUSparseFile.<pid>/<name>`, and its data starts with a decimal map padded to 512 bytes:
 *
 *   <count>\n <offset>\n <size>\n … (count pairs)   then the data of each extent, back to back.
 *
 * Everything between extents is a hole (zeros).
 */
import { IntegrityError } from '../errors.ts';
import { BLOCK } from './tar-header.ts';

export interface Extent {
  offset: number;
  size: number;
}

const MAX_MAP_BYTES = 64 * 1024 * 1024;

/** Incremental parser of the map at the start of a sparse member's data. */
export class SparseMap {
  readonly #numbers: number[] = [];
  #digits = '';
  #count = -1;
  #bytes = 0;
  #pad = -1;
  readonly #at: number;

  constructor(at: number) {
    this.#at = at;
  }

  get done(): boolean {
    return this.#pad === 0;
  }

  /** Bytes of member data the map occupies (text plus padding); valid once done. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Consumes map bytes from `buf[start..end)`; returns how many were used. */
  feed(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && !this.done) {
      if (this.#pad > 0) {
        const n = Math.min(this.#pad, end - i);
        this.#pad -= n;
        this.#bytes += n;
        i += n;
        continue;
      }
      const c = buf[i++]!;
      this.#bytes++;
      if (this.#bytes > MAX_MAP_BYTES) throw this.#bad('map too large');
      if (c >= 0x30 && c <= 0x39 && this.#digits.length < 16) {
        this.#digits += String.fromCharCode(c);
      } else if (c === 0x0a && this.#digits !== '') {
        this.#numbers.push(Number(this.#digits));
        this.#digits = '';
        if (this.#count === -1) this.#count = this.#numbers.pop()!;
        if (this.#numbers.length === 2 * this.#count) this.#pad = (BLOCK - (this.#bytes % BLOCK)) % BLOCK;
      } else {
        throw this.#bad('malformed map');
      }
    }
    return i - start;
  }

  /** The extents, checked against the real size and the number of data bytes that follow the map. */
  extents(realSize: number, dataBytes: number): Extent[] {
    const out: Extent[] = [];
    let end = 0;
    let total = 0;
    for (let i = 0; i < this.#numbers.length; i += 2) {
      const e = { offset: this.#numbers[i]!, size: this.#numbers[i + 1]! };
      if (e.offset < end || e.offset + e.size > realSize)
        throw this.#bad('extents overlap or exceed the real size');
      end = e.offset + e.size;
      total += e.size;
      out.push(e);
    }
    if (total !== dataBytes) throw this.#bad(`extents hold ${total} bytes but the member has ${dataBytes}`);
    return out;
  }

  #bad(why: string): IntegrityError {
    return new IntegrityError(`corrupt sparse member at byte ${this.#at}: ${why}`);
  }
}

/** Maps the stored data bytes of a sparse member onto file offsets, extent after extent. */
export class ExtentCursor {
  readonly #extents: Extent[];
  #index = 0;
  #used = 0;

  constructor(extents: Extent[]) {
    this.#extents = extents;
  }

  /** File offset of the next stored byte and how many bytes remain in its extent. */
  next(): { offset: number; room: number } {
    while (this.#index < this.#extents.length && this.#used === this.#extents[this.#index]!.size) {
      this.#index++;
      this.#used = 0;
    }
    const e = this.#extents[this.#index];
    if (!e) throw new IntegrityError('sparse member has more data than its map describes');
    return { offset: e.offset + this.#used, room: e.size - this.#used };
  }

  advance(n: number): void {
    this.#used += n;
  }
}
