import { describe, expect, it } from 'vitest';
import { bech32Decode, bech32Encode } from '../../../../src/archive/age/bech32.ts';

describe('bech32', () => {
  it('accepts the BIP 173 valid strings', () => {
    for (const s of [
      'A12UEL5L',
      'a12uel5l',
      'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw',
      'split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w',
    ]) {
      expect(() => bech32Decode(s)).not.toThrow();
    }
  });

  it('rejects bad checksums, mixed case, bad characters and separators', () => {
    expect(() => bech32Decode('a12uel5m')).toThrow(/checksum/);
    expect(() => bech32Decode('A12UeL5L')).toThrow(/mixed case/);
    expect(() => bech32Decode('a12ueb5l')).toThrow(/invalid character/);
    expect(() => bech32Decode('pzry9x0s0muk')).toThrow(/separator/);
    expect(() => bech32Decode('1pzry9x0s0muk')).toThrow(/separator/);
    expect(() => bech32Decode('a1qq')).toThrow(/separator/);
  });

  it('round-trips bytes and keeps the case of the prefix', () => {
    const data = Buffer.from('00ff10203040506070809a0b0c0d0e0f1112131415161718191a1b1c1d1e1f20', 'hex');
    const lower = bech32Encode('age', data);
    expect(lower).toMatch(/^age1[a-z0-9]+$/);
    expect(bech32Decode(lower)).toEqual({ hrp: 'age', data });
    const upper = bech32Encode('AGE-SECRET-KEY-', data);
    expect(upper).toMatch(/^AGE-SECRET-KEY-1[A-Z0-9]+$/);
    expect(bech32Decode(upper)).toEqual({ hrp: 'AGE-SECRET-KEY-', data });
    expect(bech32Decode(upper.toLowerCase()).hrp).toBe('age-secret-key-');
  });

  it('has no 90-character limit (age keys may be longer)', () => {
    const data = Buffer.alloc(100, 7);
    expect(bech32Decode(bech32Encode('age', data)).data).toEqual(data);
  });
});
