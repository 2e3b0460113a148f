import { randomBytes } from 'node:crypto';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  createDecryptStream,
  createEncryptStream,
  generateIdentity,
  parseIdentities,
} from '../../../../src/archive/age/index.ts';
import { UsageError } from '../../../../src/errors.ts';

const CHUNK = 64 * 1024;

/** Runs `data` through `transform` in writes of the given sizes (cycled). */
async function run(
  transform: Transform,
  data: Buffer,
  sizes: number[] = [data.length || 1],
): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    pieces.push(data.subarray(off, off + n));
    off += n;
  }
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    transform,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

function headerLength(file: Buffer): number {
  return file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
}

describe('age STREAM encryption', () => {
  const key = generateIdentity();
  const ids = parseIdentities(key.identity);

  it.each([
    [0, 1],
    [1, 1],
    [CHUNK - 1, 1],
    [CHUNK, 1],
    [CHUNK + 1, 2],
    [2 * CHUNK, 2],
    [3_000_000, 46],
  ])('%i bytes → %i chunk(s), and back', async (size, chunks) => {
    const plain = randomBytes(size);
    const sealed = await run(createEncryptStream([key.recipient]), plain);
    expect(sealed.length - headerLength(sealed)).toBe(16 + size + 16 * chunks);
    expect(await run(createDecryptStream(ids), sealed)).toEqual(plain);
  });

  it('does not depend on how the input is split into writes', async () => {
    const plain = randomBytes(5 * CHUNK + 123);
    const sizes = [1, 7, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, 16, 17];
    const sealed = await run(createEncryptStream([key.recipient]), plain, sizes);
    expect(sealed.length - headerLength(sealed)).toBe(16 + plain.length + 16 * 6);
    for (const split of [[1], [13], [16], [CHUNK + 16], [CHUNK + 17], [1000, CHUNK + 16, 5], sizes]) {
      const piecesSizes = split[0] === 1 ? [CHUNK * 8] : split; // 1-byte writes only for the header
      expect(await run(createDecryptStream(ids), sealed, piecesSizes)).toEqual(plain);
    }
    const small = randomBytes(300);
    const smallSealed = await run(createEncryptStream([key.recipient]), small, [1]);
    expect(await run(createDecryptStream(key.identity), smallSealed, [1])).toEqual(small);
  });

  it('uses a fresh file key and nonce for every file', async () => {
    const plain = Buffer.from('same input');
    const a = await run(createEncryptStream([key.recipient]), plain);
    const b = await run(createEncryptStream([key.recipient]), plain);
    expect(a.equals(b)).toBe(false);
  });

  it('refuses to encrypt to no recipient or a bad one, before producing output', () => {
    expect(() => createEncryptStream([])).toThrow(UsageError);
    expect(() => createEncryptStream([`${key.recipient}x`])).toThrow(/invalid age recipient/);
    expect(() => createDecryptStream([])).toThrow(UsageError);
    expect(() => createDecryptStream('# no keys\n')).toThrow(/no age identity found/);
  });
});
