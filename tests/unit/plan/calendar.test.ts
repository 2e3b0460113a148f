import { describe, expect, it } from 'vitest';
import { localTimeIn, minuteIn } from '../../../src/plan/calendar.ts';

describe('minuteIn', () => {
  it('says the wall-clock minute as Intl does, across DST changes and historic offsets', () => {
    const instants = [
      '2026-03-29T00:59:59Z', // Berlin: the last minute before the spring change
      '2026-03-29T01:00:00Z',
      '2026-10-25T00:30:00Z', // the hour that repeats in autumn
      '2026-10-25T01:30:00Z',
      '1890-01-01T12:00:00Z', // local mean time: an offset with seconds
      '2024-02-29T23:59:00Z',
      '2026-12-05T06:22:41Z',
    ].map((s) => Date.parse(s));
    for (const zone of [
      'Europe/Berlin',
      'America/St_Johns',
      'Asia/Kathmandu',
      'Australia/Lord_Howe',
      'UTC',
    ]) {
      const intl = new Intl.DateTimeFormat('sv-SE', {
        timeZone: zone,
        dateStyle: 'short',
        timeStyle: 'short',
      });
      const minute = minuteIn(zone);
      for (const ms of instants)
        expect(minute(ms), `${zone} ${new Date(ms).toISOString()}`).toBe(intl.format(ms));
    }
  });

  it('has the same wall clock as localTimeIn', () => {
    const ms = Date.parse('2026-07-01T22:30:00Z');
    expect(minuteIn('Asia/Tokyo')(ms)).toBe('2026-07-02 07:30');
    expect(localTimeIn('Asia/Tokyo')(ms)).toEqual({ year: 2026, month: 7, day: 2, hour: 7 });
  });
});
