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
  let dec: ZstdDecompress | undefined;
  let ends: number[] = [];
  const scanner = new ZstdFrameScanner(undefined, (at) => ends.push(at));

  const duplex: Duplex = new Duplex({
    readableHighWaterMark: CHUNK,
    writableHighWaterMark: CHUNK,
    read() {
      if (dec?.isPaused()) dec.resume();
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
    await new Promise<void>((resolve, reject) => {
      d.once('end', resolve);
      d.once('error', reject);
      d.end();
    });
  }

  return duplex;
}
