import { describe, expect, it } from 'vitest';
import type { SnapshotInfo } from '../../../src/snapshots/provider.ts';
import {
  INVALID_REASON,
  LEFTOVER_REASON,
  planLeftoverPrune,
  planSnapshotPrune,
  retentionPolicy,
} from '../../../src/snapshots/prune-plan.ts';

function snap(iso: string, extra: Partial<SnapshotInfo> = {}): SnapshotInfo {
  const name = `bo-data-${iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  return {
    provider: 'btrfs',
    volume: '/v',
    name,
    job: 'data',
    time: new Date(iso),
    ref: `/v/.bo-snapshots/${name}`,
    ...extra,
  };
}

const now = new Date('2026-11-22T12:00:00Z');

describe('snapshot prune plan', () => {
  it('applies hourly/daily retention through the shared planner', () => {
    const snaps = [
      snap('2026-11-22T11:00:00Z'),
      snap('2026-11-22T10:00:00Z'),
      snap('2026-11-22T09:30:00Z'),
      snap('2026-11-22T09:00:00Z'),
      snap('2026-11-21T09:00:00Z'),
      snap('2026-11-20T09:00:00Z'),
    ];
    const rows = planSnapshotPrune(snaps, retentionPolicy({ hourly: 2, daily: 2 }, 'UTC'), now);
    expect(rows.map((r) => [r.snapshot.name.slice(8), r.action, r.reasons.join(', ')])).toEqual([
      ['20261122T110000Z', 'keep', 'hourly #1, daily #1'],
      ['20261122T100000Z', 'keep', 'hourly #2'],
      ['20261122T093000Z', 'delete', 'no rule matched'],
      ['20261122T090000Z', 'delete', 'no rule matched'],
      ['20261121T090000Z', 'keep', 'daily #2'],
      ['20261120T090000Z', 'delete', 'no rule matched'],
    ]);
  });

  it('keeps everything without a policy, but always drops invalid LVM snapshots', () => {
    const rows = planSnapshotPrune(
      [snap('2026-11-22T11:00:00Z'), snap('2026-11-22T10:00:00Z', { invalid: true })],
      undefined,
      now,
    );
    expect(rows.map((r) => [r.action, r.reasons[0]])).toEqual([
      ['keep', 'no retention policy'],
      ['delete', INVALID_REASON],
    ]);
  });

  it('never deletes the newest snapshot, whatever the policy', () => {
    const rows = planSnapshotPrune(
      [snap('2026-11-01T11:00:00Z')],
      retentionPolicy({ within: 3_600_000 }, 'UTC'),
      now,
    );
    expect(rows[0]!.action).toBe('keep');
  });

  it('removes only marked leftovers of backup runs, once they are old enough', () => {
    const rows = planLeftoverPrune(
      [
        snap('2026-11-22T11:50:00Z', { marker: 'run-now' }),
        snap('2026-11-20T02:00:00Z', { marker: 'run-crashed' }),
        snap('2026-11-19T02:00:00Z'),
      ],
      now,
    );
    expect(rows.map((r) => [r.action, r.reasons[0]])).toEqual([
      ['keep', 'a backup run may still be using it'],
      ['delete', LEFTOVER_REASON],
      ['keep', 'no run marker: not removed automatically'],
    ]);
  });
});
