/**
 * Finds the frames of a zstd stream without decompressing it (RFC 8878: a frame is a magic
 * number, a frame header, blocks each with a 3-byte header giving its stored size, and an
 * optional checksum; skippable frames are a magic number and a length). Seekable archives are
 * sequences of independent frames: this scanner reports where each frame starts in the
 * compressed stream, which the index records so a restore can start decompressing there.
 *
 * Frames that need a dictionary are refused: nothing could decompress them on their own.
 * Cost: one small header parse per block (at most 128 KiB of data each), the rest is skipped.
 */
import { IntegrityError } from '../errors.ts';

const MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;
const FCS_BYTES = [0, 2, 4, 8];

type State =
  | { kind: 'magic' }
  | { kind: 'descriptor'; at: number }
  | { kind: 'block' }
  | { kind: 'skipSize' }
  | { kind: 'skip'; left: number; next: 'block' | 'magic' | 'checksum' };

export class ZstdFrameScanner {
  readonly #onFrame: (offset: number, kind: 'data' | 'skippable') => void;
  readonly #onEnd: (offset: number) => void;
  #state: State = { kind: 'magic' };
  /** Bytes of the field being read (a magic number, a header, a block header). */
  readonly #field = Buffer.alloc(32);
  #fill = 0;
  #need = 4;
  #pos = 0;
  #frames = 0;
  #checksum = false;

  /**
   * `onFrame` is called with the stream offset of each frame, as its magic number passes, and
   * whether it is a data frame or a skippable one (which holds no data); `onEnd` with the offset
   * just past each frame (data or skippable), as its last byte passes.
   */
  constructor(
    onFrame: (offset: number, kind: 'data' | 'skippable') => void = () => {},
    onEnd: (offset: number) => void = () => {},
    /** Stream offset of the first byte written (scanning from a frame known to start there). */
    start = 0,
  ) {
    this.#onFrame = onFrame;
    this.#onEnd = onEnd;
    this.#pos = start;
  }

  /** Data frames seen so far (skippable frames are not counted). */
  get frames(): number {
    return this.#frames;
  }

  get position(): number {
    return this.#pos;
  }

  write(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      const s = this.#state;
      if (s.kind === 'skip') {
        const n = Math.min(s.left, chunk.length - i);
        s.left -= n;
        i += n;
        this.#pos += n;
        if (s.left === 0) this.#after(s.next);
        continue;
      }
      const n = Math.min(this.#need - this.#fill, chunk.length - i);
      chunk.copy(this.#field, this.#fill, i, i + n);
      this.#fill += n;
      i += n;
      this.#pos += n;
      if (this.#fill === this.#need) this.#fieldDone();
    }
  }

  /** End of the stream: throws unless it ended between frames. */
  end(): void {
    if (this.#state.kind !== 'magic' || this.#fill !== 0)
      throw new IntegrityError(`zstd stream truncated inside a frame at byte ${this.#pos}`);
  }

  #read(need: number): void {
    this.#fill = 0;
    this.#need = need;
  }

  #after(next: 'block' | 'magic' | 'checksum'): void {
    if (next === 'magic') this.#onEnd(this.#pos);
    if (next === 'checksum') {
      this.#state = { kind: 'skip', left: 4, next: 'magic' };
      return;
    }
    this.#state = { kind: next };
    this.#read(next === 'magic' ? 4 : 3);
  }

  #fieldDone(): void {
    const f = this.#field;
    const s = this.#state;
    const start = this.#pos - this.#fill;
    if (s.kind === 'magic') {
      const magic = f.readUInt32LE(0);
      if (magic === MAGIC) {
        this.#frames++;
        this.#onFrame(start, 'data');
        this.#state = { kind: 'descriptor', at: start };
        this.#read(1);
      } else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) {
        this.#onFrame(start, 'skippable');
        this.#state = { kind: 'skipSize' };
        this.#read(4);
      } else throw new IntegrityError(`not a zstd frame at byte ${start}`);
    } else if (s.kind === 'skipSize') {
      const left = f.readUInt32LE(0);
      if (left === 0) this.#after('magic');
      else this.#state = { kind: 'skip', left, next: 'magic' };
    } else if (s.kind === 'descriptor') {
      const d = f[0]!;
      if (d & 0x08) throw new IntegrityError(`zstd frame at byte ${s.at} has a reserved bit set`);
      if ((d & 3) !== 0) throw new IntegrityError(`zstd frame at byte ${s.at} needs a dictionary`);
      this.#checksum = (d & 0x04) !== 0;
      const single = (d & 0x20) !== 0;
      const fcs = d >> 6 === 0 ? (single ? 1 : 0) : FCS_BYTES[d >> 6]!;
      // Window descriptor, dictionary id (none, checked above) and content size are skipped.
      const rest = (single ? 0 : 1) + fcs;
      if (rest === 0) this.#after('block');
      else this.#state = { kind: 'skip', left: rest, next: 'block' };
    } else if (s.kind === 'block') {
      const h = f[0]! | (f[1]! << 8) | (f[2]! << 16);
      const last = (h & 1) === 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 3) throw new IntegrityError(`zstd block with a reserved type at byte ${start}`);
      const body = type === 1 ? 1 : size;
      const then = last ? (this.#checksum ? 'checksum' : 'magic') : 'block';
      if (body === 0) this.#after(then);
      else this.#state = { kind: 'skip', left: body, next: then };
    }
  }
}
