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

  it('a changing candidate restarts the count', () => {
    expect(summary(feed(['ok', 'warn', 'crit', 'warn', 'warn'], { debounce: 2, reminderMs: 0 }))).toEqual([
      'ok→warn',
    ]);
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

  it('no reminders for warn, none when disabled', () => {
    expect(summary(feed(Array<Status>(20).fill('warn'), { debounce: 1, reminderMs: 10 * MIN }))).toEqual([
      'ok→warn',
    ]);
    expect(summary(feed(Array<Status>(20).fill('crit'), { debounce: 1, reminderMs: 0 }))).toEqual([
      'ok→crit',
    ]);
  });
});
