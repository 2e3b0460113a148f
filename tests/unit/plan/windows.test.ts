import { describe, expect, it } from 'vitest';
import { inWindow, parseWindow, rateSchedule, type TimeWindow } from '../../../src/plan/windows.ts';

function w(text: string): TimeWindow {
  const r = parseWindow(text);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

describe('parseWindow', () => {
  it('reads days, ranges, lists and times', () => {
    expect([...w('Mon-Fri 08:00-19:00').days].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(w('Mon-Fri 08:00-19:00')).toMatchObject({ from: 480, to: 1140 });
    expect([...w('Sat,Sun').days].sort()).toEqual([0, 6]);
    expect(w('Sat,Sun')).toMatchObject({ from: 0, to: 1440 });
    expect([...w('Fri-Mon').days].sort()).toEqual([0, 1, 5, 6]);
    expect(w('22:00-06:00').days.size).toBe(7);
  });
  it('says what is wrong', () => {
    expect(parseWindow('Mon-Fry')).toMatch(/days are Mon/);
    expect(parseWindow('25:00-26:00')).toMatch(/00:00 to 24:00/);
    expect(parseWindow('Mon Tue')).toMatch(/expected days/);
  });
});

describe('inWindow', () => {
  it('handles windows past midnight, counted from the day they start', () => {
    const night = w('Fri 22:00-06:00');
    expect(inWindow(night, 5, 23 * 60)).toBe(true); // Friday 23:00
    expect(inWindow(night, 6, 5 * 60)).toBe(true); // Saturday 05:00
    expect(inWindow(night, 6, 7 * 60)).toBe(false);
    expect(inWindow(night, 4, 23 * 60)).toBe(false); // Thursday
  });
});

describe('rateSchedule', () => {
  const rules = [{ rate: 5, when: ['Mon-Fri 08:00-19:00'] }, { rate: 50 }];
  const at = rateSchedule(rules, 'Europe/Berlin');
  it('takes the first rule in force, in the configured zone', () => {
    expect(at(new Date('2026-12-07T09:00:00Z'))).toBe(5); // Monday 10:00 in Berlin
    expect(at(new Date('2026-12-07T18:30:00Z'))).toBe(50); // Monday 19:30 in Berlin
    expect(at(new Date('2026-12-05T09:00:00Z'))).toBe(50); // Saturday
  });
  it('is unlimited when no rule is in force', () => {
    const business = rateSchedule([{ rate: 5, when: ['Mon-Fri 08:00-19:00'] }], 'UTC');
    expect(business(new Date('2026-12-06T12:00:00Z'))).toBe(Number.POSITIVE_INFINITY); // Sunday
    expect(business(new Date('2026-12-07T12:00:00Z'))).toBe(5);
  });
});
