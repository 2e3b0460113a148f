/**
 * Seekable zstd on the backup host: the tar stream cut into independent frames of `frameSize`
 * uncompressed bytes each (the last one shorter), in one zstd stream that `zstd -d` reads as
 * usual. The compressor is node:zlib's, which runs on libuv's thread pool, off the main thread
 * that parses and hashes the stream for the index; a frame ends with ZSTD_e_end, which zlib
 * queues in order with the data, so one compressor serves every frame.
 *
 * `createFrameScan` passes a zstd stream through unchanged and reports where each frame starts
 * (ZstdFrameScanner): the same for frames made here and by `split --filter=zstd` on a server.
 */
import { Duplex, Transform, Writable } from 'node:stream';
import { constants, createZstdCompress } from 'node:zlib';
import { ZstdFrameScanner } from './zstd-frames.ts';

const CHUNK = 256 * 1024;

export function createFramedCompressor(level: number, frameSize: number): Duplex {
  const z = createZstdCompress({
    chunkSize: CHUNK,
    params: {
      [constants.ZSTD_c_compressionLevel]: level,
      // A content checksum per frame lets `zstd -d` (and bo) detect corruption.
      [constants.ZSTD_c_checksumFlag]: 1,
    },
  });
  let inFrame = 0;
  const cutter = new Writable({
    highWaterMark: CHUNK,
    write(chunk: Buffer, _enc, cb) {
      let off = 0;
      const step = () => {
        while (off < chunk.length) {
          // A frame ends only once more data follows: the stream's end closes the last frame,
          // and no empty frame is ever written.
          if (inFrame === frameSize) {
            z.flush(constants.ZSTD_e_end);
            inFrame = 0;
          }
          const n = Math.min(frameSize - inFrame, chunk.length - off);
          const ok = z.write(chunk.subarray(off, off + n));
          off += n;
          inFrame += n;
          if (!ok || z.writableNeedDrain) {
            z.once('drain', step);
            return;
          }
        }
        cb();
      };
      step();
    },
    final(cb) {
      // zlib ends the stream with ZSTD_e_end on an empty input, and also gives the last write
      // ZSTD_e_end when it is still queued at end(): two ends in a row write an empty frame.
      // Flushing first (which only writes the pending block) means the data is processed before end().
      z.flush(constants.ZSTD_e_flush, () => {
        z.end();
        cb();
      });
    },
  });
  return Duplex.from({ writable: cutter, readable: z });
}

/** A pass-through that calls `onFrame(offset)` as each zstd frame of the stream starts. */
export function createFrameScan(
  onFrame: (offset: number) => void,
): Transform & { scanner: ZstdFrameScanner } {
  const scanner = new ZstdFrameScanner(onFrame);
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        scanner.write(chunk);
        cb(null, chunk);
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        scanner.end();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return Object.assign(t, { scanner });
}
