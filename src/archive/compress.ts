import type { Duplex, Transform } from 'node:stream';
import { PassThrough } from 'node:stream';
import { constants, createGunzip, createGzip, createZstdCompress } from 'node:zlib';
import { createZstdFramesDecompressor } from './zstd-decompress.ts';

export type Compression = 'zstd' | 'gzip' | 'none';

export const DEFAULT_LEVEL: Record<Compression, number> = { zstd: 3, gzip: 6, none: 0 };

/** File name suffix for a compression, as `tar`, `zstd -d` and `gzip -d` expect. */
export function compressionSuffix(c: Compression): string {
  return c === 'zstd' ? '.zst' : c === 'gzip' ? '.gz' : '';
}

/** Local compressor, used when the server has no compressor of its own. */
export function createCompressor(c: Compression, level?: number): Transform {
  const lvl = level ?? DEFAULT_LEVEL[c];
  if (c === 'zstd') {
    return createZstdCompress({
      chunkSize: CHUNK,
      params: {
        [constants.ZSTD_c_compressionLevel]: lvl,
        // A content checksum lets `zstd -d` detect corruption even without bo.
        [constants.ZSTD_c_checksumFlag]: 1,
      },
    });
  }
  if (c === 'gzip') return createGzip({ level: lvl, chunkSize: CHUNK });
  return new PassThrough();
}

/** Output chunks of 256 KiB instead of zlib's 16 KiB: 16× fewer callbacks and buffers downstream. */
const CHUNK = 256 * 1024;

/** zstd: frame by frame (zstd-decompress.ts says why), so seekable archives decompress whole too. */
export function createDecompressor(c: Compression): Duplex {
  if (c === 'zstd') return createZstdFramesDecompressor();
  if (c === 'gzip') return createGunzip({ chunkSize: CHUNK });
  return new PassThrough();
}
