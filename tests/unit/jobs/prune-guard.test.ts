import { describe, expect, it } from 'vitest';
import { guardMemory, type ListingFacts, listingProblems } from '../../../src/jobs/prune-guard.ts';

const b = (id: string, at: string) => ({ id, at });
const listed = [
  b('b1', '2026-06-01T00:00:00Z'),
  b('b2', '2026-06-02T00:00:00Z'),
  b('b3', '2026-06-03T00:00:00Z'),
];
/** The guard's view of a listing of these backups. */
const listedOf = (backups: ReadonlyArray<{ id: string; at: string }>): ListingFacts['listed'] => ({
  count: backups.length,
  newestAt: backups.reduce<string | undefined>((n, x) => (n === undefined || x.at > n ? x.at : n), undefined),
  has: (id) => backups.some((x) => x.id === id),
});
type Over = Partial<Omit<ListingFacts, 'listed'>> & { backups?: ReadonlyArray<{ id: string; at: string }> };
const facts = ({ backups = listed, ...over }: Over = {}): ListingFacts => ({
  job: 'j',
  listed: listedOf(backups),
  unreadable: [],
  ...over,
});
const seen = (newestId: string, newestAt: string, kept: number) => ({
  at: '2026-06-02T12:00:00Z',
  listed: kept,
  kept,
  newestId,
  newestAt,
});

describe('listingProblems (the prune guard)', () => {
  it('accepts a listing without history, and one consistent with it', () => {
    expect(listingProblems(facts())).toEqual([]);
    expect(listingProblems(facts({ previous: seen('b2', '2026-06-02T00:00:00Z', 2) }))).toEqual([]);
    expect(listingProblems(facts({ lastCommitted: { id: 'b3', at: '2026-06-03T00:00:00Z' } }))).toEqual([]);
  });

  it('accepts a known backup missing when something newer is listed (a later prune removed it)', () => {
    expect(listingProblems(facts({ previous: seen('b0', '2026-05-30T00:00:00Z', 3) }))).toEqual([]);
  });

  it('refuses when manifests could not be read', () => {
    const p = listingProblems(
      facts({ unreadable: [{ key: 'j/b4/manifest.json', error: 'socket hang up' }] }),
    );
    expect(p).toEqual([
      expect.stringMatching(
        /^1 manifest\(s\) of j could not be read \(j\/b4\/manifest.json: socket hang up\)/,
      ),
    ]);
  });

  it('refuses when the newest backup the last prune saw is gone and nothing newer is listed', () => {
    const p = listingProblems(
      facts({ backups: listed.slice(0, 2), previous: seen('b3', '2026-06-03T00:00:00Z', 3) }),
    );
    expect(p).toEqual([
      expect.stringMatching(
        /backup j\/b3, the newest when the last prune ran .* is not listed and nothing newer is/,
      ),
    ]);
  });

  it('refuses when the run history knows a newer backup than the listing shows', () => {
    const p = listingProblems(facts({ lastCommitted: { id: 'b9', at: '2026-06-09T00:00:00Z' } }));
    expect(p).toEqual([expect.stringMatching(/backup j\/b9, committed by this machine at .* is not listed/)]);
  });

  it('refuses an empty or far too small listing where the last prune left many', () => {
    const p = listingProblems(facts({ backups: [], previous: seen('b3', '2026-06-03T00:00:00Z', 30) }));
    expect(p).toHaveLength(2);
    expect(p[1]).toMatch(/shows 0 backup\(s\) of j, but the last prune .* left 30: suspiciously few/);
    // Half is still believable; below half is not.
    const many = Array.from({ length: 15 }, (_, i) => b(`x${i}`, `2026-06-1${i % 10}T00:00:00Z`));
    expect(
      listingProblems(facts({ backups: many, previous: seen('x0', '2026-06-10T00:00:00Z', 30) })),
    ).toEqual([]);
    expect(
      listingProblems(facts({ backups: many.slice(1), previous: seen('x1', '2026-06-11T00:00:00Z', 30) })),
    ).toHaveLength(1);
  });

  it('holds the listing against the catalog in storage: the memory a fresh machine shares', () => {
    const catalog = (count: number, newestId: string, newestAt: string) => ({
      updatedAt: '2026-06-03T01:00:00Z',
      count,
      newestId,
      newestAt,
    });
    expect(listingProblems(facts({ catalog: catalog(3, 'b3', '2026-06-03T00:00:00Z') }))).toEqual([]);
    // a backup only the catalog knows (another machine made it) is missing, nothing newer listed
    const gone = listingProblems(facts({ catalog: catalog(4, 'b9', '2026-06-09T00:00:00Z') }));
    expect(gone).toEqual([
      expect.stringMatching(
        /j\/b9, the newest in the job's catalog in storage .* is not listed and nothing newer is/,
      ),
    ]);
    // far fewer listed than the catalog holds
    const few = listingProblems(facts({ catalog: catalog(8, 'b3', '2026-06-03T00:00:00Z') }));
    expect(few).toEqual([
      expect.stringMatching(/shows 3 backup\(s\) of j, but the job's catalog .* lists 8: suspiciously few/),
    ]);
  });

  it('says when it has no memory at all, and only then', () => {
    expect(guardMemory(facts())).toMatch(/no memory of j .*could not be told from a real one/);
    expect(guardMemory(facts({ previous: seen('b2', '2026-06-02T00:00:00Z', 2) }))).toBeUndefined();
    expect(guardMemory(facts({ lastCommitted: { id: 'b3', at: '2026-06-03T00:00:00Z' } }))).toBeUndefined();
    expect(guardMemory(facts({ catalog: { updatedAt: 'x', count: 0 } }))).toBeUndefined();
  });
});
