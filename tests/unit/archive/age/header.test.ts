import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  b64decode,
  b64encode,
  formatHeader,
  type Stanza,
  verifyHeaderMac,
} from '../../../../src/archive/age/header.ts';
import { createHeaderReader } from '../../../../src/archive/age/header-reader.ts';
import { IntegrityError } from '../../../../src/errors.ts';
import { all } from './vectors.ts';

function readHeader(bytes: Buffer, piece = bytes.length) {
  const reader = createHeaderReader();
  for (let i = 0; i < bytes.length; i += piece) {
    const done = reader.push(bytes.subarray(i, i + piece));
    if (done) return done;
  }
  return reader.end();
}

describe('base64 without padding', () => {
  it('round-trips every length and rejects malleable encodings', () => {
    for (let n = 0; n < 70; n++) {
      const data = randomBytes(n);
      const s = b64encode(data);
      expect(s).not.toContain('=');
      expect(b64decode(s)).toEqual(data);
    }
    expect(b64decode('AA==')).toBeUndefined(); // padding
    expect(b64decode('AB')).toBeUndefined(); // non-zero trailing bits
    expect(b64decode('A')).toBeUndefined();
    expect(b64decode('AA\r')).toBeUndefined();
    expect(b64decode('AA AA')).toBeUndefined();
    expect(b64decode('-_')).toBeUndefined(); // base64url alphabet
  });
});

describe('age header', () => {
  const fileKey = randomBytes(16);
  // Bodies that end exactly on and around the 48-byte (64-column) line boundary.
  const stanzas: Stanza[] = [0, 1, 47, 48, 49, 96, 200].map((n, i) => ({
    type: i === 0 ? 'X25519' : `grease-${i}`,
    args: i % 2 ? ['arg1', 'a+b/c'] : [],
    body: randomBytes(n),
  }));

  it('writes wrapped bodies that always end with a short line', () => {
    const text = formatHeader(stanzas, fileKey).toString('latin1');
    expect(text.startsWith('age-encryption.org/v1\n-> X25519\n\n-> grease-1 arg1 a+b/c\n')).toBe(true);
    const lines = text.split('\n');
    expect(lines.every((l) => l.length <= 64 || l.startsWith('-> ') || l.startsWith('--- '))).toBe(true);
    expect(text).toMatch(/\n--- [A-Za-z0-9+/]{43}\n$/);
  });

  it('round-trips through the incremental reader, split at every size', () => {
    const header = formatHeader(stanzas, fileKey);
    const payload = Buffer.from('payload bytes');
    for (const piece of [1, 2, 3, 7, 64, 65, header.length + payload.length]) {
      const { header: parsed, rest } = readHeader(Buffer.concat([header, payload]), piece);
      expect(parsed.stanzas).toEqual(stanzas);
      expect(rest).toEqual(payload.subarray(0, rest.length)); // what arrived past the header
      verifyHeaderMac(parsed, fileKey);
      expect(formatHeader(parsed.stanzas, fileKey)).toEqual(header);
    }
  });

  it('rejects a wrong file key with a header MAC IntegrityError', () => {
    const { header } = readHeader(formatHeader(stanzas, fileKey));
    expect(() => verifyHeaderMac(header, randomBytes(16))).toThrow(IntegrityError);
    expect(() => verifyHeaderMac(header, randomBytes(16))).toThrow(/bad header MAC/);
  });

  it('fails fast on non-age input, a newer version and an empty file', () => {
    expect(() => readHeader(Buffer.from('\x28\xb5\x2f\xfd zstd frame'))).toThrow(/not an age file/);
    expect(() => readHeader(Buffer.from('age-encryption.org/v2\n'))).toThrow(
      /unsupported age format version/,
    );
    expect(() => readHeader(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => readHeader(Buffer.from('age-encryption.org/v1\n-> X25519 abc\n'))).toThrow(/truncated/);
    expect(() => readHeader(Buffer.from('  \n-----BEGIN AGE ENCRYPTED FILE-----\n'))).toThrow(
      /armored age files are not supported/,
    );
  });

  it('re-encodes every parseable cctv-age header byte for byte (with the vector file key)', () => {
    const vectors = all.filter((v) => !v.armored && v.expect !== 'header failure' && v.fileKey);
    expect(vectors.length).toBeGreaterThanOrEqual(45);
    for (const v of vectors) {
      const { header, rest } = readHeader(v.file);
      const encoded = formatHeader(header.stanzas, Buffer.from(v.fileKey!, 'hex'));
      const original = v.file.subarray(0, v.file.length - rest.length);
      if (v.expect === 'HMAC failure') expect(encoded.subarray(0, -45)).toEqual(original.subarray(0, -45));
      else expect(encoded, v.name).toEqual(original);
    }
  });
});
