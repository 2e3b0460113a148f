import { describe, expect, it } from 'vitest';
import { type CopyState, recordedLag } from '../../../src/catalog/copies.ts';

const now = new Date('2026-12-20T12:00:00Z');
const H = 3_600_000;
const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * H).toISOString();
const ok = (s: Partial<CopyState>): CopyState => ({ at: at(0), outcome: 'ok', missing: 0, ...s });

describe('recordedLag: copy lag from the state database', () => {
  it('is zero when the last copy had the newest backup', () => {
    expect(recordedLag(ok({ newest: { id: 'b2', at: at(5) } }), { id: 'b2', at: at(5) }, now)).toBe(0);
  });
  it('counts from a backup made since the last copy', () => {
    expect(recordedLag(ok({ newest: { id: 'b1', at: at(30) } }), { id: 'b2', at: at(4) }, now)).toBe(4 * H);
  });
  it('counts from the oldest backup the last copy left behind', () => {
    const s = ok({ outcome: 'failed', missing: 2, oldestMissing: { id: 'b1', at: at(26) } });
    expect(recordedLag(s, { id: 'b2', at: at(2) }, now)).toBe(26 * H);
  });
  it('counts from a copy run that failed before it could list anything', () => {
    expect(recordedLag({ at: at(3), outcome: 'failed', missing: 0 }, undefined, now)).toBe(3 * H);
  });
  it('is unknown without any copy or backup, and counts from the backup when no copy ran', () => {
    expect(recordedLag(undefined, undefined, now)).toBeUndefined();
    expect(recordedLag(undefined, { id: 'b1', at: at(1) }, now)).toBe(H);
  });
});
