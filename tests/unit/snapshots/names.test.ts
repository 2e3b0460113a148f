import { describe, expect, it } from 'vitest';
import { assertBoName, isSnapshotOf, parseSnapshotName, snapshotName } from '../../../src/snapshots/names.ts';

describe('snapshot names', () => {
  it('names a snapshot bo-<job>-<UTC time> to the second', () => {
    expect(snapshotName('data', new Date('2026-11-22T02:00:01.987Z'))).toBe('bo-data-20261122T020001Z');
    expect(snapshotName('web-1.db_x', new Date('2026-01-02T03:04:05Z'))).toBe(
      'bo-web-1.db_x-20260102T030405Z',
    );
  });

  it('parses its own names back, job and time', () => {
    expect(parseSnapshotName('bo-data-20261122T020001Z')).toEqual({
      job: 'data',
      time: new Date('2026-11-22T02:00:01Z'),
    });
    // The job part may contain dashes: the time suffix has a fixed shape.
    expect(parseSnapshotName('bo-a-b-20261122T020001Z')?.job).toBe('a-b');
  });

  it.each([
    'data-20261122T020001Z',
    'bo-data-20261122T020001',
    'bo-data-20261122T020001Z.tmp',
    'xbo-data-20261122T020001Z',
    'bo--20261122T020001Z',
    'bo-data-20261322T020001Z', // month 13
    'bo-data-20260230T020001Z', // 30 February
    'bo-data-20261122T250001Z',
    'bo-da ta-20261122T020001Z',
    'autosnap_2026-11-22_02:00:01_hourly',
    '.bo-data-20261122T020001Z.bo-run',
    '',
  ])('refuses %j', (name) => {
    expect(parseSnapshotName(name)).toBeUndefined();
    expect(() => assertBoName(name)).toThrow(/not a snapshot name bo creates/);
  });

  it('tells one job’s snapshots from another’s with a common prefix', () => {
    expect(isSnapshotOf('bo-a-b-20261122T020001Z', 'a')).toBe(false);
    expect(isSnapshotOf('bo-a-b-20261122T020001Z', 'a-b')).toBe(true);
    expect(isSnapshotOf('bo-a-20261122T020001Z', 'a')).toBe(true);
  });

  it('refuses a job name that could not round-trip', () => {
    expect(() => snapshotName('a/b', new Date())).toThrow(TypeError);
  });
});
