import { describe, expect, it } from 'vitest';
import { SnapshotVolume } from '../../../src/config/schema.ts';
import { silentLogger } from '../../../src/log.ts';
import type { Host } from '../../../src/remote/host.ts';
import { parseSnapshotName } from '../../../src/snapshots/names.ts';
import type { SnapshotInfo, SnapshotProvider } from '../../../src/snapshots/provider.ts';
import { openSnapshotSession } from '../../../src/snapshots/session.ts';

/** An in-memory provider recording calls; `fail` makes one method throw (after acting, for create). */
function memoryProvider(fail: Partial<Record<'create' | 'mount' | 'release', boolean>> = {}) {
  const snaps = new Map<string, SnapshotInfo>();
  const calls: string[] = [];
  const provider: SnapshotProvider = {
    name: 'btrfs',
    async create(_h, vol, name, { marker }) {
      calls.push(`create ${name}`);
      const s: SnapshotInfo = {
        provider: 'btrfs',
        volume: vol.volume,
        name,
        ...parseSnapshotName(name)!,
        ref: name,
        marker,
      };
      snaps.set(name, s);
      if (fail.create) throw new Error('connection lost after lvcreate');
      return s;
    },
    async list() {
      calls.push('list');
      return [...snaps.values()];
    },
    async delete(_h, _v, s) {
      calls.push(`delete ${s.name}`);
      snaps.delete(s.name);
    },
    async mountForRead(_h, _v, s) {
      calls.push(`mount ${s.name}`);
      if (fail.mount) throw new Error('mount: wrong fs type');
      return { path: `/run/bo/snapshots/${s.name}`, livePath: '/srv' };
    },
    async release(_h, _v, s) {
      calls.push(`release ${s.name}`);
      if (fail.release) throw new Error('umount: target is busy');
    },
  };
  return { provider, snaps, calls };
}

const vol = SnapshotVolume.parse({ provider: 'btrfs', volume: '/srv' });
const host = { name: 'files1' } as Host;
const base = { host, vol, job: 'web', log: silentLogger(), signal: new AbortController().signal };
const now = new Date('2026-11-22T02:00:00Z');

describe('snapshot session of a backup run', () => {
  it('creates, mounts, and on close releases then deletes', async () => {
    const m = memoryProvider();
    const s = await openSnapshotSession({ ...base, runId: 'r1', now, provider: m.provider });
    expect(s.view.path).toBe('/run/bo/snapshots/bo-web-20261122T020000Z');
    await s.close();
    expect(m.calls).toEqual([
      'list',
      'create bo-web-20261122T020000Z',
      'mount bo-web-20261122T020000Z',
      'release bo-web-20261122T020000Z',
      'delete bo-web-20261122T020000Z',
    ]);
    expect(m.snaps.size).toBe(0);
  });

  it('finds and removes the snapshot by its run marker when create failed after making it', async () => {
    const m = memoryProvider({ create: true });
    await expect(openSnapshotSession({ ...base, runId: 'r2', now, provider: m.provider })).rejects.toThrow(
      /connection lost/,
    );
    expect(m.snaps.size).toBe(0);
    expect(m.calls.slice(-3)).toEqual([
      'list',
      'release bo-web-20261122T020000Z',
      'delete bo-web-20261122T020000Z',
    ]);
  });

  it('releases and deletes when mounting fails', async () => {
    const m = memoryProvider({ mount: true });
    await expect(openSnapshotSession({ ...base, runId: 'r3', now, provider: m.provider })).rejects.toThrow(
      /wrong fs type/,
    );
    expect(m.snaps.size).toBe(0);
  });

  it('reports a snapshot it could not release, and does not delete a mounted one', async () => {
    const m = memoryProvider({ release: true });
    const s = await openSnapshotSession({ ...base, runId: 'r4', now, provider: m.provider });
    await expect(s.close()).rejects.toThrow(
      /bo-web-20261122T020000Z on files1 could not be removed: umount: target is busy/,
    );
    expect(m.snaps.size).toBe(1);
  });

  it('removes marked leftovers of this job only, before creating its own', async () => {
    const m = memoryProvider();
    const mk = (job: string, iso: string, marker?: string) =>
      m.provider.create(host, vol, `bo-${job}-${iso}`, {
        signal: base.signal,
        ...(marker ? { marker } : {}),
      });
    await mk('web', '20261121T020000Z', 'crashed');
    await mk('web', '20261120T020000Z');
    await mk('webshop', '20261121T020000Z', 'other-job');
    m.calls.length = 0;
    const s = await openSnapshotSession({ ...base, runId: 'r5', now, provider: m.provider });
    await s.close();
    expect([...m.snaps.keys()].sort()).toEqual(['bo-web-20261120T020000Z', 'bo-webshop-20261121T020000Z']);
    expect(m.calls.slice(0, 3)).toEqual([
      'list',
      'release bo-web-20261121T020000Z',
      'delete bo-web-20261121T020000Z',
    ]);
  });
});
