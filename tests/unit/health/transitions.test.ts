import { describe, expect, it } from 'vitest';
import {
  type AlertPolicy,
  type AlertState,
  advance,
  type Transition,
} from '../../../src/health/transitions.ts';
import type { CheckResult, Status } from '../../../src/health/types.ts';

const MIN = 60_000;

/** Feeds statuses one per 5 minutes through the state machine, like a fake clock would. */
function feed(statuses: Status[], policy: AlertPolicy, start = 0): Transition[] {
  let state: AlertState | undefined;
  const out: Transition[] = [];
  statuses.forEach((status, i) => {
    const r: CheckResult = {
      host: 'files1',
      check: 'disk',
      subject: '/srv',
      status,
      message: `${status} now`,
    };
    const step = advance(state, r, start + i * 5 * MIN, policy);
    state = step.state;
    if (step.transition) out.push(step.transition);
  });
  return out;
}

const summary = (ts: Transition[]) =>
  ts.map((t) => `${t.kind === 'reminder' ? 'remind ' : ''}${t.from}→${t.to}`);

describe('alert transitions', () => {
  it('alerts on changes only, never on repeats', () => {
    const ts = feed(['ok', 'ok', 'warn', 'warn', 'crit', 'crit', 'crit', 'ok', 'ok'], {
      debounce: 1,
      reminderMs: 0,
    });
    expect(summary(ts)).toEqual(['ok→warn', 'warn→crit', 'crit→ok']);
  });

  it('a first result that is ok is silent; a first result that is crit alerts', () => {
    expect(feed(['ok'], { debounce: 1, reminderMs: 0 })).toEqual([]);
    expect(summary(feed(['crit'], { debounce: 1, reminderMs: 0 }))).toEqual(['ok→crit']);
  });

  it('debounces flapping: N consecutive results before the state changes', () => {
    const flapping: Status[] = ['ok', 'warn', 'ok', 'warn', 'ok', 'warn', 'ok'];
    expect(feed(flapping, { debounce: 2, reminderMs: 0 })).toEqual([]);
    const ts = feed(['ok', 'crit', 'crit', 'crit', 'ok', 'ok'], { debounce: 2, reminderMs: 0 });
    expect(summary(ts)).toEqual(['ok→crit', 'crit→ok']);
    expect(ts.map((t) => t.at / MIN)).toEqual([10, 25]);
  });

  it('counts results away from the state whatever their level: a disk alternating warn/crit alerts', () => {
    // The audit's case: around the crit line, never two equal levels in a row.
    const hovering: Status[] = ['ok', 'warn', 'crit', 'warn', 'crit', 'warn', 'crit'];
    const ts = feed(hovering, { debounce: 2, reminderMs: 0 });
    // Both results agree on "at least warn": warn is confirmed, crit never was (no 2 in a row).
    expect(summary(ts)).toEqual(['ok→warn']);
    expect(ts[0]!.at / MIN).toBe(10);
    expect(ts[0]!.result.status).toBe('crit');
    // Two crits in a row from warn do confirm crit.
    expect(summary(feed([...hovering, 'crit'], { debounce: 2, reminderMs: 0 }))).toEqual([
      'ok→warn',
      'warn→crit',
    ]);
  });

  it('moves to the mildest change the run agrees on, or the latest when it crosses the state', () => {
    const p = { debounce: 3, reminderMs: 0 };
    // From ok: crit only when every counted result was crit.
    expect(summary(feed(['crit', 'crit', 'crit'], p))).toEqual(['ok→crit']);
    expect(summary(feed(['crit', 'warn', 'crit'], p))).toEqual(['ok→warn']);
    // From crit: ok only when every result was ok; ok/warn mixed is warn.
    expect(summary(feed(['crit', 'crit', 'crit', 'ok', 'warn', 'ok'], p))).toEqual(['ok→crit', 'crit→warn']);
    expect(summary(feed(['crit', 'crit', 'crit', 'ok', 'ok', 'ok'], p))).toEqual(['ok→crit', 'crit→ok']);
    // From warn, results on both sides: the latest decides.
    const fromWarn: Status[] = ['warn', 'warn', 'warn'];
    expect(summary(feed([...fromWarn, 'ok', 'crit', 'ok'], p))).toEqual(['ok→warn', 'warn→ok']);
    expect(summary(feed([...fromWarn, 'ok', 'ok', 'crit'], p))).toEqual(['ok→warn', 'warn→crit']);
  });

  it('a result equal to the state restarts the count', () => {
    const p = { debounce: 3, reminderMs: 0 };
    expect(feed(['warn', 'warn', 'ok', 'crit', 'warn', 'ok', 'crit', 'crit'], p)).toEqual([]);
    expect(summary(feed(['warn', 'warn', 'ok', 'crit', 'warn', 'crit'], p))).toEqual(['ok→warn']);
  });

  it('unknown results neither alert nor reset the debounce count', () => {
    expect(summary(feed(['ok', 'crit', 'unknown', 'crit'], { debounce: 2, reminderMs: 0 }))).toEqual([
      'ok→crit',
    ]);
    expect(feed(['unknown', 'unknown'], { debounce: 1, reminderMs: 0 })).toEqual([]);
    expect(summary(feed(['crit', 'unknown', 'unknown', 'crit'], { debounce: 1, reminderMs: 0 }))).toEqual([
      'ok→crit',
    ]);
  });

  it('reminds while crit lasts, every reminder interval, and stops on recovery', () => {
    // 5-minute steps; reminder every 20 minutes.
    const ts = feed(['crit', ...Array<Status>(9).fill('crit'), 'ok', 'ok'], {
      debounce: 1,
      reminderMs: 20 * MIN,
    });
    expect(summary(ts)).toEqual(['ok→crit', 'remind crit→crit', 'remind crit→crit', 'crit→ok']);
    expect(ts.map((t) => t.at / MIN)).toEqual([0, 20, 40, 50]);
    expect(ts[2]!.since).toBe(0);
  });

  it('reminders with debounce > 1: timed from the confirmed change; a short blip neither reminds nor resets them', () => {
    // Crit is confirmed at 5 min (second crit); reminders every 20 min from then.
    const statuses: Status[] = [
      'crit',
      'crit',
      'crit',
      'warn',
      'crit',
      'crit',
      'crit',
      'crit',
      'crit',
      'crit',
    ];
    const ts = feed(statuses, { debounce: 2, reminderMs: 20 * MIN });
    expect(summary(ts)).toEqual(['ok→crit', 'remind crit→crit', 'remind crit→crit']);
    expect(ts.map((t) => t.at / MIN)).toEqual([5, 25, 45]);
    expect(ts.map((t) => t.since / MIN)).toEqual([5, 5, 5]);
    // Recovery needs two ok in a row, and ends the reminders.
    const rec = feed(['crit', 'crit', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'], {
      debounce: 2,
      reminderMs: 10 * MIN,
    });
    expect(summary(rec)).toEqual(['ok→crit', 'crit→ok']);
  });

  it('no reminders for warn, none when disabled', () => {
    expect(summary(feed(Array<Status>(20).fill('warn'), { debounce: 1, reminderMs: 10 * MIN }))).toEqual([
      'ok→warn',
    ]);
    expect(summary(feed(Array<Status>(20).fill('crit'), { debounce: 1, reminderMs: 0 }))).toEqual([
      'ok→crit',
    ]);
  });
});
