import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDecryptor, generateIdentity, parseIdentities } from '../../../../src/archive/age/index.ts';
import { BoError, IntegrityError } from '../../../../src/errors.ts';

import { all, type Vector } from './vectors.ts';

/** Feeds the file in `piece`-sized writes; returns what was emitted and the error, if any. */
function decrypt(file: Buffer, identityText: string, piece: number): { out: Buffer; error?: unknown } {
  const parts: Buffer[] = [];
  try {
    const d = createDecryptor(parseIdentities(identityText), (b) => parts.push(Buffer.from(b)));
    for (let i = 0; i < file.length; i += piece) d.update(file.subarray(i, i + piece));
    d.final();
    return { out: Buffer.concat(parts) };
  } catch (error) {
    return { out: Buffer.concat(parts), error };
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const isHybrid = (v: Vector) => v.identities.some((i) => i.startsWith('AGE-SECRET-KEY-PQ-'));
const x25519Only = (v: Vector) => v.identities.length > 0 && !isHybrid(v);

function check(v: Vector, identityText: string, piece: number): void {
  const { out, error } = decrypt(v.file, identityText, piece);
  switch (v.expect) {
    case 'success':
      expect(error).toBeUndefined();
      expect(sha256(out)).toBe(v.payload);
      return;
    case 'no match':
      expect(error).toBeInstanceOf(BoError);
      expect(error).not.toBeInstanceOf(IntegrityError);
      expect((error as Error).message).toMatch(/none of the given identities can decrypt this file/);
      break;
    case 'HMAC failure':
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as Error).message).toMatch(/bad header MAC/);
      break;
    case 'header failure':
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as Error).message).toMatch(/invalid age header|payload nonce is missing/);
      break;
    case 'payload failure':
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as Error).message).toMatch(/^age payload/);
      // Everything released before the failure must be exactly the authenticated prefix.
      expect(sha256(out)).toBe(v.payload);
      return;
    default:
      throw new Error(`unexpected expectation ${v.expect}`);
  }
  expect(out.length).toBe(0);
}

// Pieces: whole file at once, and small writes that split every header line and chunk boundary.
const pieceSizes = (v: Vector) => [v.file.length || 1, v.file.length > 200_000 ? 4099 : 13];

const spare = generateIdentity().identity;

describe('cctv-age vectors with X25519 identities', () => {
  const run = all.filter((v) => !v.armored && (x25519Only(v) || v.name === 'empty'));
  it('covers the X25519 vectors', () => expect(run.length).toBeGreaterThanOrEqual(60));
  for (const v of run) {
    it(`${v.name}: ${v.expect}`, () => {
      const ids = x25519Only(v) ? v.identities.join('\n') : spare;
      for (const piece of pieceSizes(v)) check(v, ids, piece);
    });
  }
});

describe('cctv-age vectors bo does not support fail cleanly', () => {
  for (const v of all.filter((v) => v.armored)) {
    it(`${v.name}: armored files are refused with a clear message`, () => {
      const { out, error } = decrypt(v.file, x25519Only(v) ? v.identities.join('\n') : spare, 4096);
      expect(out.length).toBe(0);
      expect(error).toBeInstanceOf(BoError);
      // Malformed armor (lowercase or misspelt BEGIN line, leading garbage) is simply not age.
      const ok =
        v.expect === 'armor failure' ? /armored age files are not supported|not an age file/ : /armored/;
      expect((error as Error).message).toMatch(ok);
    });
  }
  for (const v of all.filter((v) => !v.armored && v.identities.length === 0 && v.name !== 'empty')) {
    // scrypt (passphrase) vectors: bo has no passphrase identities, so each must end either in
    // the vector's own failure (header failure, no match) or in the clear "not supported" error.
    it(`${v.name}: ${v.expect} or passphrase files refused`, () => {
      const { out, error } = decrypt(v.file, spare, 4096);
      expect(out.length).toBe(0);
      const message = (error as Error).message;
      const unsupported = /passphrase-encrypted \(scrypt\), which bo does not support/;
      if (v.expect === 'header failure' && error instanceof IntegrityError)
        expect(message).toMatch(/invalid age header/);
      else if (v.expect === 'no match' && !unsupported.test(message))
        expect(message).toMatch(/none of the given identities/);
      else expect(message).toMatch(unsupported);
    });
  }
  for (const v of all.filter((v) => !v.armored && isHybrid(v))) {
    it(`${v.name}: post-quantum identities are refused`, () => {
      expect(() => parseIdentities(v.identities.join('\n'))).toThrow(/post-quantum .* not supported/);
    });
  }
});
