import { describe, expect, it } from 'vitest';
import { isoWeek, localTimeIn } from '../../../src/plan/calendar.ts';
import {
  describePolicy,
  EMPTY_POLICY_REASON,
  NEWEST_REASON,
  NO_RULE_REASON,
  newestProvenReason,
  planRetention,
  type RetentionItem,
  type RetentionPolicy,
} from '../../../src/plan/retention.ts';

const DAY = 86_400_000;
const items = (...isos: string[]): RetentionItem[] =>
  isos.map((iso, i) => ({ id: `b${i}-${iso}`, time: new Date(iso) }));

/** "time → action reasons" lines, newest first, for readable table assertions. */
function plan(list: RetentionItem[], policy: RetentionPolicy, now = '2026-12-31T00:00:00Z'): string[] {
  return planRetention(list, policy, new Date(now)).map(
    (d) => `${d.time.toISOString()} ${d.action} ${d.reasons.join(', ')}`,
  );
}

describe('planRetention', () => {
  it('returns nothing for an empty list', () => {
    expect(planRetention([], { last: 3 }, new Date())).toEqual([]);
  });

  it('keeps everything under an empty policy', () => {
    const d = planRetention(items('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), {}, new Date());
    expect(d.map((x) => [x.action, x.reasons])).toEqual([
      ['keep', [EMPTY_POLICY_REASON]],
      ['keep', [EMPTY_POLICY_REASON]],
    ]);
  });

  it('keeps the last n, newest first', () => {
    const list = items(
      '2026-05-01T10:00:00Z',
      '2026-05-03T10:00:00Z',
      '2026-05-02T10:00:00Z',
      '2026-04-30T10:00:00Z',
    );
    expect(plan(list, { last: 2 })).toEqual([
      '2026-05-03T10:00:00.000Z keep last #1',
      '2026-05-02T10:00:00.000Z keep last #2',
      `2026-05-01T10:00:00.000Z delete ${NO_RULE_REASON}`,
      `2026-04-30T10:00:00.000Z delete ${NO_RULE_REASON}`,
    ]);
  });

  it('counts overlapping rules independently (restic semantics)', () => {
    const list = items(
      '2026-05-02T10:00:00Z',
      '2026-05-02T08:00:00Z',
      '2026-05-01T10:00:00Z',
      '2026-05-01T08:00:00Z',
      '2026-04-30T08:00:00Z',
    );
    expect(plan(list, { last: 2, daily: 2, timezone: 'UTC' })).toEqual([
      '2026-05-02T10:00:00.000Z keep last #1, daily #1',
      '2026-05-02T08:00:00.000Z keep last #2',
      '2026-05-01T10:00:00.000Z keep daily #2',
      `2026-05-01T08:00:00.000Z delete ${NO_RULE_REASON}`,
      `2026-04-30T08:00:00.000Z delete ${NO_RULE_REASON}`,
    ]);
  });

  it('keeps the oldest backup while a period rule has counts left', () => {
    const list = items('2026-05-02T10:00:00Z', '2026-05-01T10:00:00Z', '2026-05-01T08:00:00Z');
    expect(plan(list, { daily: 7, timezone: 'UTC' })).toEqual([
      '2026-05-02T10:00:00.000Z keep daily #1',
      '2026-05-01T10:00:00.000Z keep daily #2',
      '2026-05-01T08:00:00.000Z keep daily #3 (oldest)',
    ]);
  });

  it('walks a grandfather-father-son policy over a year of dailies', () => {
    const list: RetentionItem[] = [];
    for (let t = Date.parse('2025-01-01T02:00:00Z'); t <= Date.parse('2026-03-01T02:00:00Z'); t += DAY) {
      list.push({ id: new Date(t).toISOString(), time: new Date(t) });
    }
    const d = planRetention(
      list,
      { daily: 7, weekly: 4, monthly: 12, yearly: 3, timezone: 'UTC' },
      new Date('2026-03-02T00:00:00Z'),
    );
    const kept = d.filter((x) => x.action === 'keep');
    expect(kept[0]!.reasons).toEqual(['daily #1', 'weekly #1', 'monthly #1', 'yearly #1']);
    expect(kept.filter((x) => x.reasons.some((r) => r.startsWith('daily'))).length).toBe(7);
    expect(kept.filter((x) => x.reasons.some((r) => r.startsWith('weekly'))).length).toBe(4);
    expect(kept.filter((x) => x.reasons.some((r) => r.startsWith('monthly'))).length).toBe(12);
    // yearly: 2026 (newest), 2025's newest (Dec 31), and the oldest backup while a count is left
    expect(kept.filter((x) => x.reasons.some((r) => r.startsWith('yearly'))).map((x) => x.id)).toEqual([
      '2026-03-01T02:00:00.000Z',
      '2025-12-31T02:00:00.000Z',
      '2025-01-01T02:00:00.000Z',
    ]);
    // monthly #2 is the last backup of February 2026
    expect(d.find((x) => x.reasons.includes('monthly #2'))!.id).toBe('2026-02-28T02:00:00.000Z');
  });

  it('cuts days at local midnight across the spring DST change (Europe/Berlin)', () => {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST. 23:30Z on the 28th is 00:30 on the 29th in Berlin.
    const list = items(
      '2026-03-28T23:30:00Z',
      '2026-03-28T22:30:00Z',
      '2026-03-28T21:00:00Z',
      '2026-03-27T10:00:00Z',
    );
    expect(plan(list, { daily: 2, timezone: 'Europe/Berlin' })).toEqual([
      '2026-03-28T23:30:00.000Z keep daily #1',
      '2026-03-28T22:30:00.000Z keep daily #2',
      `2026-03-28T21:00:00.000Z delete ${NO_RULE_REASON}`,
      `2026-03-27T10:00:00.000Z delete ${NO_RULE_REASON}`,
    ]);
    // The same backups bucketed in UTC: the first three share a day.
    expect(plan(list, { daily: 2, timezone: 'UTC' })).toEqual([
      '2026-03-28T23:30:00.000Z keep daily #1',
      `2026-03-28T22:30:00.000Z delete ${NO_RULE_REASON}`,
      `2026-03-28T21:00:00.000Z delete ${NO_RULE_REASON}`,
      '2026-03-27T10:00:00.000Z keep daily #2',
    ]);
  });

  it('treats the repeated hour of the autumn DST change as one hour, and its 25-hour day as one day', () => {
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00Z; 00:30Z and 01:30Z are both 02:30 local.
    const hourly = items(
      '2026-10-25T01:30:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-24T12:00:00Z',
      '2026-10-23T12:00:00Z',
    );
    expect(plan(hourly, { hourly: 2, timezone: 'Europe/Berlin' })).toEqual([
      '2026-10-25T01:30:00.000Z keep hourly #1',
      `2026-10-25T00:30:00.000Z delete ${NO_RULE_REASON}`,
      '2026-10-24T12:00:00.000Z keep hourly #2',
      `2026-10-23T12:00:00.000Z delete ${NO_RULE_REASON}`,
    ]);
    // 00:30 CEST and 23:30 CET of October 25 are 24 hours apart and still the same local day.
    const daily = items(
      '2026-10-25T22:30:00Z',
      '2026-10-24T22:30:00Z',
      '2026-10-24T12:00:00Z',
      '2026-10-23T12:00:00Z',
    );
    expect(plan(daily, { daily: 2, timezone: 'Europe/Berlin' })).toEqual([
      '2026-10-25T22:30:00.000Z keep daily #1',
      `2026-10-24T22:30:00.000Z delete ${NO_RULE_REASON}`,
      '2026-10-24T12:00:00.000Z keep daily #2',
      `2026-10-23T12:00:00.000Z delete ${NO_RULE_REASON}`,
    ]);
  });

  it('puts a backup taken exactly at local midnight into the new day, week, month and year', () => {
    // 2027-01-01T00:00 in Berlin (CET, +1) is 2026-12-31T23:00Z; one millisecond earlier is still 2026.
    const list = items('2026-12-31T23:00:00.000Z', '2026-12-31T22:59:59.999Z', '2026-12-30T12:00:00Z');
    for (const period of ['daily', 'monthly', 'yearly'] as const) {
      expect(plan(list, { [period]: 2, timezone: 'Europe/Berlin' }, '2027-01-02T00:00:00Z')).toEqual([
        `2026-12-31T23:00:00.000Z keep ${period} #1`,
        `2026-12-31T22:59:59.999Z keep ${period} #2`,
        `2026-12-30T12:00:00.000Z delete ${NO_RULE_REASON}`,
      ]);
    }
    // Weeks start on Monday 00:00 local: 2026-11-30 is a Monday, 2026-11-29T23:00Z is its first instant.
    const weeks = items('2026-11-29T23:00:00.000Z', '2026-11-29T22:59:59.999Z', '2026-11-28T12:00:00Z');
    expect(plan(weeks, { weekly: 2, timezone: 'Europe/Berlin' })).toEqual([
      '2026-11-29T23:00:00.000Z keep weekly #1',
      '2026-11-29T22:59:59.999Z keep weekly #2',
      `2026-11-28T12:00:00.000Z delete ${NO_RULE_REASON}`,
    ]);
  });

  it('keeps backups within a duration of now, the boundary itself excluded', () => {
    const now = '2026-06-15T12:00:00Z';
    const list = items(
      '2026-06-14T12:00:00Z',
      '2026-06-01T12:00:00.001Z',
      '2026-06-01T12:00:00Z',
      '2026-05-01T12:00:00Z',
    );
    expect(plan(list, { within: 14 * DAY }, now)).toEqual([
      '2026-06-14T12:00:00.000Z keep within 14d',
      '2026-06-01T12:00:00.001Z keep within 14d',
      `2026-06-01T12:00:00.000Z delete ${NO_RULE_REASON}`,
      `2026-05-01T12:00:00.000Z delete ${NO_RULE_REASON}`,
    ]);
  });

  it('keeps the newest backup when the policy would delete everything', () => {
    const list = items('2026-01-03T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z');
    expect(plan(list, { within: DAY }, '2026-06-01T00:00:00Z')).toEqual([
      `2026-01-03T00:00:00.000Z keep ${NEWEST_REASON}`,
      `2026-01-02T00:00:00.000Z delete ${NO_RULE_REASON}`,
      `2026-01-01T00:00:00.000Z delete ${NO_RULE_REASON}`,
    ]);
  });

  it('also keeps the newest proven backup, so an unproven or corrupt newest one is never all that is left', () => {
    const at = (day: number) => new Date(Date.UTC(2026, 0, day));
    const list: RetentionItem[] = [
      { id: 'b1', time: at(1), proven: 'verified' },
      { id: 'b2', time: at(2), proven: 'verified' },
      { id: 'b3', time: at(3), proven: 'restore-drilled' },
      { id: 'b4', time: at(4) }, // failed its verify, or was never checked
      { id: 'b5', time: at(5) },
    ];
    const now = at(6);
    const show = (d: ReturnType<typeof planRetention>) =>
      d.map((x) => `${x.id} ${x.action} ${x.reasons.join(', ')}`);
    expect(newestProvenReason('restore-drilled')).toBe('newest restore-drilled backup (always kept)');
    expect(show(planRetention(list, { last: 1 }, now))).toEqual([
      'b5 keep last #1',
      'b4 delete no rule matched',
      `b3 keep ${newestProvenReason('restore-drilled')}`,
      'b2 delete no rule matched',
      'b1 delete no rule matched',
    ]);
    // Already kept by a rule: the reason is added, nothing more is kept.
    expect(show(planRetention(list, { last: 3 }, now))).toEqual([
      'b5 keep last #1',
      'b4 keep last #2',
      `b3 keep last #3, ${newestProvenReason('restore-drilled')}`,
      'b2 delete no rule matched',
      'b1 delete no rule matched',
    ]);
    // The newest itself proven: it carries the reason instead of "newest successful backup".
    expect(show(planRetention(list.slice(0, 3), { within: DAY }, now))).toEqual([
      `b3 keep ${newestProvenReason('restore-drilled')}`,
      'b2 delete no rule matched',
      'b1 delete no rule matched',
    ]);
  });

  it('orders backups with the same time by id, deterministically', () => {
    const t = new Date('2026-01-01T00:00:00Z');
    const d = planRetention(
      [
        { id: 'a', time: t },
        { id: 'c', time: t },
        { id: 'b', time: t },
      ],
      { last: 1 },
      t,
    );
    expect(d.map((x) => `${x.id} ${x.action}`)).toEqual(['c keep', 'b delete', 'a delete']);
  });

  it('describes a policy', () => {
    expect(describePolicy({ last: 3, daily: 7, within: 14 * DAY, timezone: 'Europe/Berlin' })).toBe(
      'last 3, daily 7, within 14d (Europe/Berlin)',
    );
    expect(describePolicy({})).toBe('keep everything');
  });
});

describe('calendar', () => {
  it('converts instants to wall-clock fields across DST', () => {
    const berlin = localTimeIn('Europe/Berlin');
    expect(berlin(Date.parse('2026-03-29T00:59:59Z'))).toEqual({ year: 2026, month: 3, day: 29, hour: 1 });
    expect(berlin(Date.parse('2026-03-29T01:00:00Z'))).toEqual({ year: 2026, month: 3, day: 29, hour: 3 });
    expect(berlin(Date.parse('2026-10-25T00:30:00Z'))).toEqual({ year: 2026, month: 10, day: 25, hour: 2 });
    expect(berlin(Date.parse('2026-10-25T01:30:00Z'))).toEqual({ year: 2026, month: 10, day: 25, hour: 2 });
    const kathmandu = localTimeIn('Asia/Kathmandu'); // +05:45
    expect(kathmandu(Date.parse('2026-01-01T18:14:00Z'))).toEqual({ year: 2026, month: 1, day: 1, hour: 23 });
    expect(kathmandu(Date.parse('2026-01-01T18:15:00Z'))).toEqual({ year: 2026, month: 1, day: 2, hour: 0 });
  });

  it('numbers ISO weeks across year ends', () => {
    expect(isoWeek(2027, 1, 1)).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(2026, 1, 1)).toEqual({ year: 2026, week: 1 });
    expect(isoWeek(2024, 12, 30)).toEqual({ year: 2025, week: 1 });
  });

  it('rejects unknown zones', () => {
    expect(() => localTimeIn('Mars/Olympus')).toThrow(/unknown time zone/);
  });
});
