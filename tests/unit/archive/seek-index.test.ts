import { describe, expect, it } from 'vitest';
import { SeekIndex } from '../../../src/archive/seek-index.ts';
import type { IndexEntry } from '../../../src/archive/tar-index.ts';

const entry = (path: string): IndexEntry => ({
  path,
  type: 'file',
  size: 1,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 0,
});

describe('SeekIndex', () => {
  it('gives each entry the compressed offset of its frame and its tar offset', () => {
    const out: IndexEntry[] = [];
    const s = new SeekIndex(1000, (e) => out.push(e));
    s.frame(0);
    s.add(entry('a'), 0);
    s.add(entry('b'), 512);
    s.frame(300);
    s.add(entry('c'), 1536);
    expect(s.finish()).toBe(true);
    expect(out.map((e) => [e.path, e.at])).toEqual([
      ['a', [0, 0]],
      ['b', [0, 512]],
      ['c', [300, 1536]],
    ]);
  });

  it('holds entries, in order, until their frame has started (a compressor behind the indexer)', () => {
    const out: string[] = [];
    const s = new SeekIndex(1000, (e) => out.push(`${e.path}@${e.at}`));
    s.frame(0);
    s.add(entry('a'), 2100); // frame 2: not started
    s.add(entry('b'), 2200);
    expect(out).toEqual([]);
    s.frame(400);
    expect(out).toEqual([]);
    s.frame(700);
    expect(out).toEqual(['a@700,2100', 'b@700,2200']);
  });

  it('emits entries without `at` when the stream had too few frames, and says so', () => {
    const out: IndexEntry[] = [];
    const s = new SeekIndex(1000, (e) => out.push(e));
    s.frame(0);
    s.add(entry('a'), 1500);
    expect(s.finish()).toBe(false);
    expect(out).toEqual([entry('a')]);
  });

  it('uses the tar offset itself for an uncompressed archive', () => {
    const out: IndexEntry[] = [];
    const s = new SeekIndex(null, (e) => out.push(e));
    s.add(entry('a'), 10240);
    expect(out[0]!.at).toEqual([10240, 10240]);
  });
});
