/**
 * age throughput: bo's streaming encrypt/decrypt (node:crypto) against the pure-JS
 * `age-encryption` package as a baseline, measured in the same run on the same data.
 *   node bench/age.ts [MiB]   (default 256)
 */
import { randomFillSync } from 'node:crypto';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as ageJs from 'age-encryption';
import {
  createDecryptStream,
  createEncryptStream,
  generateIdentity,
  parseIdentities,
} from '../src/archive/age/index.ts';

const PIECE = 1024 * 1024;

function pieces(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += PIECE) yield data.subarray(i, i + PIECE);
    })(),
    { objectMode: false },
  );
}

async function drain(input: Buffer, transform: Transform, keep: boolean): Promise<Buffer> {
  const kept: Buffer[] = [];
  await pipeline(
    pieces(input),
    transform,
    new Writable({
      highWaterMark: 4 * PIECE,
      write(chunk: Buffer, _enc, cb) {
        if (keep) kept.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(kept);
}

async function timed<T>(label: string, bytes: number, fn: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  const result = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const mbps = bytes / 1e6 / seconds;
  console.log(`${label.padEnd(34)} ${mbps.toFixed(0).padStart(6)} MB/s  (${seconds.toFixed(2)} s)`);
  return result;
}

export async function benchAge(mib = 256): Promise<void> {
  const size = mib * 1024 * 1024;
  const plain = randomFillSync(Buffer.allocUnsafe(size));
  const { identity, recipient } = generateIdentity();
  const ids = parseIdentities(identity);
  console.log(`age: ${mib} MiB, 1 MiB writes, node ${process.version}`);

  await timed('bo encrypt (node:crypto, stream)', size, () =>
    drain(plain, createEncryptStream([recipient]), false),
  );
  const sealed = await drain(plain, createEncryptStream([recipient]), true);
  await timed('bo decrypt (node:crypto, stream)', size, () => drain(sealed, createDecryptStream(ids), false));

  const e = new ageJs.Encrypter();
  e.addRecipient(recipient);
  const jsSealed = await timed('age-encryption encrypt (baseline)', size, () => e.encrypt(plain));
  const d = new ageJs.Decrypter();
  d.addIdentity(identity);
  const jsPlain = await timed('age-encryption decrypt (baseline)', size, () => d.decrypt(jsSealed));
  if (!Buffer.from(jsPlain.buffer, jsPlain.byteOffset, jsPlain.byteLength).equals(plain))
    throw new Error('baseline round trip mismatch');
}

if (import.meta.main) await benchAge(Number(process.argv[2] ?? 256));
