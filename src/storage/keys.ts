import { UsageError } from '../errors.ts';

/** Basename prefix of the filesystem backend's in-progress temp files; never a valid key segment. */
export const TEMP_PREFIX = '.bo-tmp-';

/**
 * Rejects keys that could escape the storage root or alias another key: absolute keys, `.`/`..`
 * segments, empty segments (`a//b`, trailing `/`), NUL bytes and temp-file names. Both backends
 * apply the same rules so a key valid on one is valid on the other.
 */
export function checkKey(key: string): string {
  const problem = keyProblem(key);
  if (problem) throw new UsageError(`invalid storage key "${key}": ${problem}`);
  return key;
}

function keyProblem(key: string): string | undefined {
  if (key === '') return 'empty';
  if (key.includes('\0')) return 'contains a NUL byte';
  if (key.startsWith('/')) return 'absolute keys are not allowed';
  for (const seg of key.split('/')) {
    if (seg === '') return 'empty path segment';
    if (seg === '.' || seg === '..') return `"${seg}" segments are not allowed`;
    if (seg.startsWith(TEMP_PREFIX)) return `segments starting with "${TEMP_PREFIX}" are reserved`;
  }
  return undefined;
}

/** "bo", "bo/" and "/bo/" all mean "bo/"; "" and "/" mean no prefix. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/**
 * Byte-wise (UTF-8) comparison: the order S3 lists keys in, which UTF-16 `<` does not match.
 * UTF-8 byte order is code point order; UTF-16 code units follow it up to U+D7FF, so where the
 * first difference is below the surrogates the code units decide (a sort of 200,000 keys makes
 * no Buffers), else the bytes do.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  return a.length - b.length;
}
