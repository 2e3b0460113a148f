import { createTask } from 'node-cron';
import { describe, expect, it } from 'vitest';
import { compileCron, cronProblem } from '../../../src/plan/cron.ts';

function nextN(expr: string, tz: string, from: Date, n: number): string[] {
  const c = compileCron(expr, tz);
  const out: string[] = [];
  let t = from;
  for (let i = 0; i < n; i++) {
    t = c.next(t)!;
    out.push(t.toISOString());
  }
  return out;
}

const local = (iso: string, tz: string) =>
  new Date(iso).toLocaleString('sv-SE', { timeZone: tz }).replace(' ', 'T');

describe('compileCron', () => {
  const expressions = [
    '0 2 * * *',
    '*/15 * * * * *',
    '@daily',
    '0 0 L * *',
    '0 0 * * 5L',
    '0 0 * * 1#2',
    '0 0 LW * *',
    '0 9 15W * *',
    '0 0 L-3 * *',
    '0 0 ? * MON-FRI',
    '0 0 1,15 * SUN',
    '30 4 1 */2 *',
    '*/7 * * * *',
    '0 0 29 2 *',
  ];
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];

  it('agrees with node-cron on the next runs (node-cron computes from the real now)', () => {
    for (const tz of zones) {
      for (const expr of expressions) {
        const task = createTask(expr, () => {}, { timezone: tz });
        const now = new Date();
        const oracle = task.getNextRuns(5).map((d) => d.toISOString());
        void task.destroy();
        expect(nextN(expr, tz, now, 5), `${expr} in ${tz}`).toEqual(oracle);
      }
    }
  });

  it('runs a time skipped by the spring DST change shifted forward, not never', () => {
    const tz = 'Europe/Berlin';
    const runs = nextN('0 2 * * *', tz, new Date('2026-03-27T12:00:00Z'), 3).map((r) => local(r, tz));
    expect(runs).toEqual(['2026-03-28T02:00:00', '2026-03-29T03:00:00', '2026-03-30T02:00:00']);
  });

  it('runs a time repeated by the autumn DST change once, at its first occurrence', () => {
    const tz = 'Europe/Berlin';
    const runs = nextN('30 2 * * *', tz, new Date('2026-10-24T12:00:00Z'), 2);
    expect(runs).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    const every = nextN('*/20 * * * *', tz, new Date('2026-10-25T00:00:00Z'), 6);
    expect(every).toEqual([...every].sort());
    expect(new Set(every).size).toBe(6);
  });

  it('keeps sub-hourly schedules going through the spring gap', () => {
    const runs = nextN('*/30 * * * *', 'America/New_York', new Date('2026-03-08T06:00:00Z'), 4);
    expect(runs).toEqual([
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:00:00.000Z', // 02:00 does not exist: 03:00 EDT
      '2026-03-08T07:30:00.000Z', // 02:30 → 03:30 EDT
      '2026-03-08T08:00:00.000Z', // 04:00 EDT (03:00/03:30 EDT already ran)
    ]);
  });

  it('is strictly after the given time', () => {
    const c = compileCron('0 2 * * *', 'UTC');
    expect(c.next(new Date('2026-01-01T02:00:00.000Z'))?.toISOString()).toBe('2026-01-02T02:00:00.000Z');
    expect(c.next(new Date('2026-01-01T01:59:59.999Z'))?.toISOString()).toBe('2026-01-01T02:00:00.000Z');
  });
});

describe('cronProblem', () => {
  it('explains invalid expressions and accepts valid ones', () => {
    expect(cronProblem('0 2 * * *')).toBeUndefined();
    expect(cronProblem('*/5 * * * * *')).toBeUndefined();
    expect(cronProblem('bad')).toMatch(/5 or 6 fields/);
    expect(cronProblem('61 * * * *')).toMatch(/61/);
    expect(() => compileCron('61 * * * *')).toThrow(/invalid cron expression/);
  });
});
