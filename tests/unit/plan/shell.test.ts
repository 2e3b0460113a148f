import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../../src/plan/shell.ts';

/** A tiny reference parser for POSIX single/double-quote-free words: enough to read our output back. */
function unquote(word: string): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    if (word[i] === "'") {
      const end = word.indexOf("'", i + 1);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (word[i] === '\\') {
      out += word[i + 1];
      i += 2;
    } else {
      out += word[i];
      i++;
    }
  }
  return out;
}

const TRICKY = [
  '',
  ' ',
  "it's",
  "''",
  "'",
  'a b',
  'line1\nline2',
  '$(rm -rf /)',
  '`id`',
  '$HOME',
  '"double"',
  'back\\slash',
  'tab\there',
  '*?[a-z]',
  '-n',
  '--',
  '~',
  'a;b|c&d',
  'ünïcödé ✓ 日本語',
  "'; echo pwned; '",
  '!event',
  '#comment',
];

describe('shellQuote', () => {
  it('leaves plain words alone', () => {
    expect(shellQuote('/var/lib/bo')).toBe('/var/lib/bo');
    expect(shellQuote('user@host:2222')).toBe('user@host:2222');
    expect(shellQuote('a=b,c+d%e')).toBe('a=b,c+d%e');
  });

  it('single-quotes everything else', () => {
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('$(id)')).toBe("'$(id)'");
    expect(shellQuote('~')).toBe("'~'");
    expect(shellQuote('line1\nline2')).toBe("'line1\nline2'");
  });

  it("writes a single quote as '\\''", () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("'")).toBe("''\\'''");
  });

  it.each(TRICKY)('round-trips %j', (s) => {
    const q = shellQuote(s);
    expect(unquote(q)).toBe(s);
    // A plain word, or only quoted runs and escaped single quotes: nothing the shell expands.
    expect(q).toMatch(/^(?:[A-Za-z0-9_@%+=:,./-]+|(?:'[^']*'|\\')+)$/);
  });

  it('refuses NUL, which no shell argument can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('shellJoin', () => {
  it('quotes each argument and joins with spaces', () => {
    expect(shellJoin(['tar', '-C', '/srv/my files', "--exclude=it's"])).toBe(
      "tar -C '/srv/my files' '--exclude=it'\\''s'",
    );
    expect(shellJoin([])).toBe('');
    expect(shellJoin(['', ''])).toBe("'' ''");
  });
});
