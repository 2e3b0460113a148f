/**
 * zstd decompression of a stream of several frames, one zstd decompressor per frame.
 *
 * Node's own decompressor (node:zlib, Node 24) mishandles input that holds the end of a frame and
 * the start of the next one: it stops after the first frame or fails with "Unknown frame
 * descriptor" (nodejs/node#64741), and seekable archives are nothing but such frames. Here the
 * frame scanner cuts the input where each frame ends, and each frame gets a fresh decompressor,
 * which only ever sees that one frame (zstd itself skips a skippable frame). Output keeps the
 * frames' order and the reader's backpressure.
 */
import { Duplex } from 'node:stream';
import { createZstdDecompress, type ZstdDecompress } from 'node:zlib';
import { ZstdFrameScanner } from './zstd-frames.ts';

const CHUNK = 256 * 1024;

export function createZstdFramesDecompressor(): Duplex {
  /** The frame being written. */
  let dec: ZstdDecompress | undefined;
  /** The frame whose output is being read: `dec`, or the previous one until it has ended. */
  let reading: ZstdDecompress | undefined;
  let ends: number[] = [];
  const scanner = new ZstdFrameScanner(undefined, (at) => ends.push(at));

  const duplex: Duplex = new Duplex({
    readableHighWaterMark: CHUNK,
    writableHighWaterMark: CHUNK,
    read() {
      if (reading?.isPaused()) reading.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      const base = scanner.position;
      ends = [];
      try {
        scanner.write(chunk);
      } catch (err) {
        return cb(err as Error);
      }
      feed(
        chunk,
        ends.map((at) => at - base),
      ).then(() => cb(), cb);
    },
    final(cb) {
      try {
        scanner.end();
      } catch (err) {
        return cb(err as Error);
      }
      finishFrame().then(() => {
        duplex.push(null);
        cb();
      }, cb);
    },
    destroy(err, cb) {
      dec?.destroy();
      reading?.destroy();
      cb(err);
    },
  });

  /** Writes `chunk` to the frames' decompressors, ending one at each of `cuts` (offsets in it). */
  async function feed(chunk: Buffer, cuts: number[]): Promise<void> {
    let from = 0;
    for (const at of [...cuts, chunk.length]) {
      if (at > from) {
        dec ??= startFrame();
        if (!dec.write(chunk.subarray(from, at)))
          await new Promise<void>((resolve) => dec!.once('drain', resolve));
      }
      if (at < chunk.length || cuts.includes(at)) await finishFrame();
      from = at;
    }
  }

  function startFrame(): ZstdDecompress {
    const d = createZstdDecompress({ chunkSize: CHUNK });
    reading = d;
    d.on('data', (out: Buffer) => {
      if (!duplex.push(out)) d.pause();
    });
    d.on('error', (err) => duplex.destroy(err));
    return d;
  }

  async function finishFrame(): Promise<void> {
    const d = dec;
    dec = undefined;
    if (!d) return;
    // Until its output is read to the end, a paused frame is resumed by read().
    await new Promise<void>((resolve, reject) => {
      d.once('end', resolve);
      d.once('error', reject);
      d.end();
    });
  }

  return duplex;
}

/**
 * The same, pulled rather than streamed: `push` returns the output of each input chunk, so a
 * reader that stops half-way (a restore that has its file) never makes its source read ahead.
 */
export class ZstdFramesDecoder {
  #dec: ZstdDecompress | undefined;
  #out: Buffer[] = [];
  #ends: number[] = [];
  readonly #scanner = new ZstdFrameScanner(undefined, (at) => this.#ends.push(at));

  async push(chunk: Buffer): Promise<Buffer[]> {
    const base = this.#scanner.position;
    this.#ends = [];
    this.#scanner.write(chunk);
    let from = 0;
    for (const at of [...this.#ends.map((e) => e - base), chunk.length]) {
      if (at > from) {
        this.#dec ??= this.#start();
        await written(this.#dec, chunk.subarray(from, at));
      }
      if (at < chunk.length || this.#ends.includes(at + base)) await this.#finish();
      from = at;
    }
    return this.#out.splice(0);
  }

  /** End of input: the last frame must be complete. */
  async end(): Promise<Buffer[]> {
    this.#scanner.end();
    await this.#finish();
    return this.#out.splice(0);
  }

  /** Stops decoding (the reader has what it needs). */
  close(): void {
    this.#dec?.destroy();
    this.#dec = undefined;
  }

  #start(): ZstdDecompress {
    const d = createZstdDecompress({ chunkSize: CHUNK });
    d.on('data', (b: Buffer) => this.#out.push(b));
    d.on('error', () => {}); // reported by the write or end that meets it
    return d;
  }

  async #finish(): Promise<void> {
    const d = this.#dec;
    this.#dec = undefined;
    if (!d) return;
    await new Promise<void>((resolve, reject) => {
      d.once('end', resolve);
      d.once('error', reject);
      d.end();
    });
  }
}

/** Resolves once `d` has taken `data`; rejects when it fails on it (zlib then never calls back). */
function written(d: ZstdDecompress, data: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    d.once('error', failed);
    d.write(data, (err) => {
      d.off('error', failed);
      if (err) reject(err);
      else resolve();
    });
  });
}
