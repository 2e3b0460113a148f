import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.ts';
import { checkKey, compareKeys, normalizePrefix } from '../../../src/storage/keys.ts';

describe('checkKey', () => {
  it('accepts ordinary relative keys', () => {
    for (const k of ['a', 'job/2025-01-01T00-00-00Z/archive.tar.zst', '.hidden/x', 'a..b/c']) {
      expect(checkKey(k)).toBe(k);
    }
  });

  it('rejects keys that escape or alias', () => {
    for (const k of ['', '/abs', '../x', 'a/../b', 'a/./b', 'a//b', 'a/', 'x\0y', 'a/.bo-tmp-1-b']) {
      expect(() => checkKey(k)).toThrow(UsageError);
    }
  });
});

describe('normalizePrefix', () => {
  it('makes "bo", "bo/" and "/bo/" the same, and "" or "/" no prefix', () => {
    expect(normalizePrefix('bo')).toBe('bo/');
    expect(normalizePrefix('bo/')).toBe('bo/');
    expect(normalizePrefix('/bo/')).toBe('bo/');
    expect(normalizePrefix('a/b')).toBe('a/b/');
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('/')).toBe('');
  });
});

describe('compareKeys', () => {
  it('orders by UTF-8 bytes like S3, not by UTF-16 code units', () => {
    const keys = ['\u{1F600}', '\uFF5E', 'a/b', 'a-b'];
    expect([...keys].sort(compareKeys)).toEqual(['a-b', 'a/b', '\uFF5E', '\u{1F600}']);
    expect([...keys].sort()).not.toEqual([...keys].sort(compareKeys));
  });

  it('agrees with the bytes on every pair, whatever comes first or last', () => {
    const keys = [
      '',
      'a',
      'ab',
      'a/',
      'é',
      '\uFF5E',
      '\u{1F600}',
      '\u{1F600}a',
      '\u{1F600}b',
      'x\u{1F600}',
      'x\uFF5E',
    ];
    for (const a of keys)
      for (const b of keys)
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });
});
