import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createEncryptStream, generateIdentity, parseIdentities } from '../../../../src/archive/age/index.ts';
import { agePayload, chunkAt, createChunkOpener } from '../../../../src/archive/age/seek.ts';
import { IntegrityError } from '../../../../src/errors.ts';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;

async function encrypt(data: Buffer, recipient: string): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([data]),
    createEncryptStream([recipient]),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

/** Plaintext [x, x + n) read from the file alone at the chunks that hold it. */
function readAt(file: Buffer, ids: ReturnType<typeof parseIdentities>, x: number, n: number): Buffer {
  const p = agePayload(file.subarray(0, 4096), file.length, ids)!;
  const at = chunkAt(p, x);
  const opener = createChunkOpener(p, at.chunk);
  const end = Math.min(file.length, p.start + Math.ceil((x + n) / CHUNK) * SEALED);
  const plain = Buffer.concat([
    ...opener.update(file.subarray(at.stored, end)),
    ...(end === file.length ? opener.final() : []),
  ]);
  return plain.subarray(at.skip, at.skip + n);
}

describe('age random access', () => {
  const { identity, recipient } = generateIdentity();
  const ids = parseIdentities(identity);

  it('reads any range at its chunks: inside one, straddling two, in the short last one and a full last one', async () => {
    for (const size of [3 * CHUNK + 100, 3 * CHUNK]) {
      const data = randomBytes(size);
      const file = await encrypt(data, recipient);
      for (const [x, n] of [
        [0, 10],
        [CHUNK - 5, 10],
        [CHUNK, CHUNK],
        [size - 7, 7],
        [2 * CHUNK + 1, size - 2 * CHUNK - 1],
      ] as const)
        expect(readAt(file, ids, x, n).equals(data.subarray(x, x + n))).toBe(true);
    }
  });

  it('fails on a damaged chunk, naming it, and reads the others', async () => {
    const data = randomBytes(3 * CHUNK);
    const file = await encrypt(data, recipient);
    const p = agePayload(file, file.length, ids)!;
    file[p.start + SEALED + 100]! ^= 1;
    expect(() => readAt(file, ids, CHUNK + 5, 10)).toThrow(/authentication failed at chunk 1/);
    expect(() => readAt(file, ids, CHUNK + 5, 10)).toThrow(IntegrityError);
    expect(readAt(file, ids, 2 * CHUNK, 50).equals(data.subarray(2 * CHUNK, 2 * CHUNK + 50))).toBe(true);
  });

  it('asks for more when the first bytes end inside the header', async () => {
    const file = await encrypt(randomBytes(10), recipient);
    expect(agePayload(file.subarray(0, 20), file.length, ids)).toBeUndefined();
  });
});
