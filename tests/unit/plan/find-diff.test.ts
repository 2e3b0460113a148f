import { describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../../src/archive/tar-index.ts';
import { findPattern } from '../../../src/plan/find-pattern.ts';
import { diffIndexes, pathHistory } from '../../../src/plan/index-diff.ts';

const file = (path: string, sha = 'a', more: Partial<IndexEntry> = {}): IndexEntry => ({
  path,
  type: 'file',
  size: 1,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 1,
  sha256: sha.repeat(64).slice(0, 64),
  ...more,
});

describe('findPattern', () => {
  it('anchors a leading slash at the root, matches other patterns at any depth, and finds what is below a match', () => {
    const m = findPattern('/srv/mail/alice/cur/*');
    expect(m('srv/mail/alice/cur/1.eml')).toBe(true);
    expect(m('srv/mail/alice/cur/sub/2.eml')).toBe(true); // below a matching directory
    expect(m('srv/mail/bob/cur/1.eml')).toBe(false);
    expect(m('x/srv/mail/alice/cur/1.eml')).toBe(false);
    const x = findPattern('*.xlsx');
    expect(x('srv/share/q3/report.xlsx')).toBe(true);
    expect(x('srv/share/report.xlsx.bak')).toBe(false);
    expect(findPattern('alice')('srv/mail/alice/cur/1')).toBe(true);
    expect(findPattern('alice')('srv/mail/malice/1')).toBe(false);
    expect(findPattern('/srv/**/cur/?.eml')('srv/mail/alice/cur/1.eml')).toBe(true);
    expect(findPattern('/srv/**/cur/?.eml')('srv/cur/1.eml')).toBe(true);
    expect(findPattern('/srv/[ab]*')('srv/alpha')).toBe(true);
    expect(findPattern('/srv/[!ab]*')('srv/alpha')).toBe(false);
  });

  it('refuses an empty pattern', () => {
    expect(() => findPattern(' / ')).toThrow(/needs a pattern/);
  });
});

describe('diffIndexes', () => {
  it('lists added, removed and modified paths, content apart from metadata', () => {
    const a = [file('d/a'), file('d/b'), file('d/c'), file('d/m')];
    const b = [file('d/a'), file('d/c', 'b'), file('d/m', 'a', { mode: 0o600, mtime: 2 }), file('d/n')];
    const d = diffIndexes(a, b);
    expect(d.added.map((e) => e.path)).toEqual(['d/n']);
    expect(d.removed.map((e) => e.path)).toEqual(['d/b']);
    expect(d.modified.map((m) => [m.path, m.changes])).toEqual([
      ['d/c', ['content']],
      ['d/m', ['mode', 'mtime']],
    ]);
  });
});

describe('pathHistory', () => {
  it('says when a path appeared, changed, stayed and went', () => {
    const h = pathHistory([
      { backup: 1, entry: undefined },
      { backup: 2, entry: file('p') },
      { backup: 3, entry: file('p', 'a', { mtime: 9 }) },
      { backup: 4, entry: file('p', 'b') },
      { backup: 5, entry: undefined },
      { backup: 6, entry: file('p', 'b') },
    ]);
    expect(h.map((v) => [v.backup, v.event])).toEqual([
      [2, 'new'],
      [3, 'same'],
      [4, 'changed'],
      [5, 'gone'],
      [6, 'new'],
    ]);
  });
});
