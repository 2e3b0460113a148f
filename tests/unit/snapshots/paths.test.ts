import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.ts';
import { normalizeAbs, pathsInSnapshot } from '../../../src/snapshots/paths.ts';

describe('paths in a snapshot', () => {
  const view = { path: '/srv/data/.bo-snapshots/bo-x-20261122T020000Z', livePath: '/srv/data' };

  it('maps every backup path below the live mount into the snapshot', () => {
    expect(pathsInSnapshot(['/srv/data', '/srv/data/www/', '/srv/data//db/x'], view, 'x')).toEqual([
      view.path,
      `${view.path}/www`,
      `${view.path}/db/x`,
    ]);
  });

  it('handles a volume mounted at /', () => {
    expect(
      pathsInSnapshot(['/etc', '/'], { path: '/run/bo/snapshots/s', livePath: '/' }, 'vg0/root'),
    ).toEqual(['/run/bo/snapshots/s/etc', '/run/bo/snapshots/s']);
  });

  it('refuses a path that is not on the snapshotted volume', () => {
    expect(() => pathsInSnapshot(['/srv/data2/x'], view, 'vol')).toThrow(UsageError);
    expect(() => pathsInSnapshot(['/etc'], view, 'vol')).toThrow(/not on the snapshot volume vol/);
  });

  it('normalizes and refuses relative or .. paths', () => {
    expect(normalizeAbs('/a//b/./c/', 'p')).toBe('/a/b/c');
    expect(() => normalizeAbs('a/b', 'p')).toThrow(/absolute/);
    expect(() => normalizeAbs('/a/../b', 'p')).toThrow(/\.\./);
  });
});
