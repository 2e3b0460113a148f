/**
 * Gives every index entry of a seekable archive its `at` while the archive is written: the
 * compressed offset of the zstd frame its headers start in, and their offset T in the tar stream.
 *
 * Frames hold `frameSize` bytes of the tar stream each (the last one fewer), so T lies in frame
 * ⌊T / frameSize⌋ at position T mod frameSize inside it. The compressed offset of
 * each frame comes from the frame scanner, as the frame starts: on the server's compressed stream
 * before bo decompresses it for the indexer (known before any entry of the frame), or on bo's own
 * compressor output, which may lag the indexer by a frame or two. Entries whose frame has not
 * started yet wait, in order, so the index stays in archive order.
 */
import type { IndexEntry } from './tar-index.ts';

export class SeekIndex {
  /** Uncompressed bytes per frame; null: the archive is not compressed (at = [T, T]). */
  readonly frameSize: number | null;
  readonly #emit: (e: IndexEntry) => void;
  /** Compressed offsets of frames `#base`, `#base + 1`, …; earlier ones are no longer needed. */
  #starts: number[] = [];
  #base = 0;
  #frames = 0;
  #waiting: Array<{ e: IndexEntry; offset: number }> = [];

  constructor(frameSize: number | null, emit: (e: IndexEntry) => void) {
    this.frameSize = frameSize;
    this.#emit = emit;
  }

  /** Frames seen so far. */
  get frames(): number {
    return this.#frames;
  }

  /** A frame started at `offset` of the compressed stream. */
  frame(offset: number): void {
    this.#starts.push(offset);
    this.#frames++;
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!;
      if (!this.#place(next.e, next.offset)) return;
      this.#waiting.shift();
    }
  }

  /** An entry whose headers start at tar offset `offset`: emitted with its `at` once known. */
  add(e: IndexEntry, offset: number): void {
    if (this.#waiting.length === 0 && this.#place(e, offset)) return;
    this.#waiting.push({ e, offset });
  }

  /**
   * The archive is complete: entries still waiting for a frame (the stream had fewer frames than
   * its length needs) are emitted without `at`. False when there were any.
   */
  finish(): boolean {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const { e } of waiting) this.#emit(e);
    return waiting.length === 0;
  }

  #place(e: IndexEntry, offset: number): boolean {
    if (this.frameSize === null) {
      this.#emit({ ...e, at: [offset, offset] });
      return true;
    }
    const k = Math.floor(offset / this.frameSize);
    if (k >= this.#frames) return false;
    // Entries come in archive order: frames before this one are done with.
    if (k > this.#base) {
      this.#starts.splice(0, k - this.#base);
      this.#base = k;
    }
    this.#emit({ ...e, at: [this.#starts[k - this.#base]!, offset] });
    return true;
  }
}
