import { describe, expect, it } from 'vitest';
import { type IndexEntry, indexLine, parseIndexLine } from '../../../src/archive/tar-index.ts';
import { ancestors, isSelected, MemberSet, normalizeMember } from '../../../src/archive/tar-path.ts';
import { IntegrityError } from '../../../src/errors.ts';

describe('normalizeMember', () => {
  it.each([
    ['srv/share/a', 'srv/share/a'],
    ['srv//share/./a/', 'srv/share/a'],
    ['./etc/passwd', 'etc/passwd'],
    ['./', '.'],
    ['.', '.'],
    ['a..b/..c', 'a..b/..c'],
  ])('%j → %j', (name, want) => {
    expect(normalizeMember(name)).toBe(want);
  });

  it.each(['', '/etc/passwd', '../evil', 'a/../../evil', 'a/..', 'ok\0no'])('refuses %j', (name) => {
    expect(() => normalizeMember(name)).toThrow(IntegrityError);
  });
});

describe('helpers', () => {
  it('lists ancestors outermost first', () => {
    expect(ancestors('a/b/c')).toEqual(['a', 'a/b']);
    expect(ancestors('a')).toEqual([]);
  });

  it('selects members at or below an include', () => {
    expect(isSelected('srv/share/a', ['srv/share'])).toBe(true);
    expect(isSelected('srv/share', ['srv/share'])).toBe(true);
    expect(isSelected('srv/share2', ['srv/share'])).toBe(false);
    expect(isSelected('x', [])).toBe(true);
  });

  it('MemberSet remembers names', () => {
    const s = new MemberSet();
    s.add('a/b');
    expect(s.has('a/b')).toBe(true);
    expect(s.has('a/c')).toBe(false);
    s.delete('a/b');
    expect(s.size).toBe(0);
  });
});

describe('index lines', () => {
  const e: IndexEntry = {
    sha256: 'a'.repeat(64),
    path: 'srv/line\nbreak "q"',
    type: 'file',
    size: 5,
    mode: 0o4755,
    uid: 0,
    gid: 0,
    mtime: 1000000000.5,
    sparse: true,
  };

  it('round-trip, with a fixed key order and no newline inside', () => {
    const line = indexLine(e);
    expect(line).not.toContain('\n');
    expect(line.startsWith('{"path":')).toBe(true);
    expect(line.indexOf('"sha256"')).toBeGreaterThan(line.indexOf('"mtime"'));
    expect(parseIndexLine(`${line}\n`)).toEqual(e);
  });

  it('refuses lines that are not index entries', () => {
    expect(() => parseIndexLine('{"path":"a"}')).toThrow(IntegrityError);
    expect(() => parseIndexLine('not json')).toThrow(IntegrityError);
  });
});
