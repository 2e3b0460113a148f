/**
 * POSIX shell quoting for commands bo sends to `sh -c` on a host. Pure: no I/O.
 *
 * Single quotes preserve every byte literally except the single quote itself, which is written
 * as `'\''` (close, escaped quote, reopen). That covers newlines, `$()`, backticks, globs and
 * any unicode, so a quoted argument always reaches the remote program as exactly one word.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument; plain words (letters, digits, `_@%+=:,./-`) are left as they are. */
export function shellQuote(s: string): string {
  if (s.includes('\0')) throw new TypeError('shell arguments cannot contain NUL bytes');
  if (SAFE.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Quotes every argument and joins them with spaces: a command line for `sh -c`. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}
