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

/** Byte-wise (UTF-8) comparison: the order S3 lists keys in, which UTF-16 `<` does not match. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
