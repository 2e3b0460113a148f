import { describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../../src/archive/tar-index.ts';
import { MAX_SAMPLE_FILES, sampleFiles } from '../../../src/jobs/drill.ts';
import { expectedHashes } from '../../../src/jobs/drill-check.ts';
import { createIndexComparer } from '../../../src/jobs/verify-compare.ts';
import { pickSample } from '../../../src/jobs/verify-run.ts';
import { type LockRecord, lockStatus } from '../../../src/storage/lock-record.ts';

const H = (c: string) => c.repeat(64);
const file = (path: string, sha = H('a'), size = 1): IndexEntry => ({
  path,
  type: 'file',
  size,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 1,
  sha256: sha,
});
const dir = (path: string): IndexEntry => ({
  path,
  type: 'dir',
  size: 0,
  mode: 0o755,
  uid: 0,
  gid: 0,
  mtime: 1,
});

describe('createIndexComparer', () => {
  it('accepts an archive equal to its index', () => {
    const index = [dir('srv'), file('srv/a'), file('srv/b', H('b'))];
    const c = createIndexComparer(index);
    for (const e of index) c.onEntry({ ...e });
    expect(c.finish()).toEqual([]);
    expect(c.matched).toBe(3);
  });

  it('names entries that differ, are missing, or are not indexed', () => {
    const c = createIndexComparer([dir('srv'), file('srv/a'), file('srv/b'), file('srv/gone')]);
    c.onEntry(dir('srv'));
    c.onEntry(file('srv/a', H('f')));
    c.onEntry(file('srv/b', H('a'), 2));
    c.onEntry(file('srv/new'));
    expect(c.finish()).toEqual([
      `/srv/a: sha256 differs (index ${H('a')}, archive ${H('f')})`,
      '/srv/b: size differs (index 1, archive 2)',
      '/srv/new: in the archive but not in the index',
      '1 index entry is missing from the archive, e.g. /srv/gone',
    ]);
  });

  it('caps the list of problems', () => {
    const c = createIndexComparer([]);
    for (let i = 0; i < 30; i++) c.onEntry(file(`f${i}`));
    const p = c.finish();
    expect(p).toHaveLength(21);
    expect(p[20]).toBe('… and 10 more problem(s)');
  });
});

describe('pickSample (verify --sample)', () => {
  const refs = Array.from({ length: 10 }, (_, i) => ({ id: `b${i}` }));
  const fixed = () => 0.5;

  it('always includes the newest, then never-verified, then least recently verified', () => {
    const lastOk = new Map(refs.slice(0, 8).map((r, i) => [r.id, `2026-06-0${9 - i}T00:00:00Z`]));
    // b8 never verified; b7 verified longest ago (06-02), b9 newest.
    expect(pickSample(refs, 0.3, lastOk, fixed).map((r) => r.id)).toEqual(['b7', 'b8', 'b9']);
    expect(pickSample(refs, 0.01, lastOk, fixed).map((r) => r.id)).toEqual(['b9']);
    expect(pickSample(refs, 1, lastOk, fixed)).toHaveLength(10);
    expect(pickSample([], 0.5, lastOk, fixed)).toEqual([]);
  });
});

describe('sampleFiles and expectedHashes (drill)', () => {
  it('samples a share of regular files, at least one and at most the cap', () => {
    const index = [dir('d'), ...Array.from({ length: 1000 }, (_, i) => file(`d/f${i}`))];
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const s = sampleFiles(index, 0.1, random);
    expect(s).toHaveLength(100);
    expect(new Set(s).size).toBe(100);
    expect(s.every((p) => p.startsWith('d/f'))).toBe(true);
    expect(sampleFiles(index, 0.0001, random)).toHaveLength(1);
    expect(sampleFiles(index, 1, random)).toHaveLength(MAX_SAMPLE_FILES);
  });

  it('expects hardlinks to hold their target’s content', () => {
    const index: IndexEntry[] = [
      file('a', H('1')),
      { ...file('b'), type: 'hardlink', linkpath: 'a', sha256: undefined, size: 0 },
    ];
    expect([...expectedHashes(index, index)]).toEqual([
      ['a', H('1')],
      ['b', H('1')],
    ]);
  });
});

describe('lockStatus', () => {
  const rec = (over: Partial<LockRecord> = {}): LockRecord => ({
    format: 'bo-lock',
    version: 1,
    scope: 'job/x',
    epoch: 3,
    owner: { host: 'h', pid: 1, runId: 'r', purpose: 'backup' },
    acquiredAt: '2026-06-01T00:00:00Z',
    refreshedAt: '2026-06-01T00:00:00Z',
    expiresAt: '2026-06-01T00:02:00Z',
    ttlMs: 120_000,
    released: false,
    ...over,
  });
  const alive = () => false;
  it('is held until expiry plus the skew allowance, then stale', () => {
    expect(lockStatus(rec(), new Date('2026-06-01T00:02:30Z'), 30_000, alive)).toBe('held');
    expect(lockStatus(rec(), new Date('2026-06-01T00:02:30.001Z'), 30_000, alive)).toBe('stale');
  });
  it('is released once released, and stale at once when its owner died on this machine', () => {
    expect(lockStatus(rec({ released: true }), new Date('2026-06-01T00:00:10Z'), 30_000, alive)).toBe(
      'released',
    );
    expect(lockStatus(rec(), new Date('2026-06-01T00:00:10Z'), 30_000, () => true)).toBe('stale');
  });
});
