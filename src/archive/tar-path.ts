/**
 * Member-name safety shared by the indexer, the local extractor and the guard in front of a
 * remote `tar -x`: one normalisation, one set of refusals, so all three agree on what a name
 * means.
 */
import { IntegrityError } from '../errors.ts';

/** The archive root (`./` in archives made with `tar -C / .`): never written to, only allowed for directories. */
export const ROOT = '.';

/**
 * Normalises a member name to `a/b/c`: drops `.` components, repeated and trailing slashes.
 * Refuses (IntegrityError naming the entry) empty names, absolute names, `..` components and
 * NUL bytes. Returns ROOT for names that only denote the archive root (`.`, `./`).
 */
export function normalizeMember(name: string, what = 'entry'): string {
  if (name === '') throw new IntegrityError(`refusing archive ${what} with an empty name`);
  if (name.includes('\0'))
    throw new IntegrityError(`refusing archive ${what} ${JSON.stringify(name)}: name contains NUL`);
  if (name.startsWith('/'))
    throw new IntegrityError(`refusing archive ${what} ${JSON.stringify(name)}: absolute path`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..')
      throw new IntegrityError(`refusing archive ${what} ${JSON.stringify(name)}: contains a ".." component`);
    parts.push(part);
  }
  return parts.length === 0 ? ROOT : parts.join('/');
}

/** Proper ancestors of a normalised member, outermost first: `a/b/c` → `a`, `a/b`. */
export function ancestors(member: string): string[] {
  const out: string[] = [];
  for (let i = member.indexOf('/'); i !== -1; i = member.indexOf('/', i + 1)) out.push(member.slice(0, i));
  return out;
}

/** True when `member` is one of `include` or below one of them; an empty list selects everything. */
export function isSelected(member: string, include: readonly string[]): boolean {
  if (include.length === 0) return true;
  return include.some((i) => i === ROOT || member === i || member.startsWith(`${i}/`));
}

/**
 * A set of member names kept as 53-bit hashes: bounded memory (a few dozen bytes per name) for
 * archives with millions of entries. A collision can only make `has` answer true for a name
 * never added; callers use it for checks that stay safe in that case (a hardlink target must
 * still exist inside the target directory).
 */
export class MemberSet {
  readonly #set = new Set<number>();
  add(member: string): void {
    this.#set.add(hash53(member));
  }
  has(member: string): boolean {
    return this.#set.has(hash53(member));
  }
  delete(member: string): void {
    this.#set.delete(hash53(member));
  }
  get size(): number {
    return this.#set.size;
  }
}

function hash53(s: string): number {
  // Two independent 32-bit FNV-1a style hashes over UTF-16 code units, combined to 53 bits.
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}
