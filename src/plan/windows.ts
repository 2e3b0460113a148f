/**
 * Time windows for limits ("Mon-Fri 08:00-19:00", "Sat,Sun", "22:00-06:00") and the rate in force
 * at an instant. Pure. Days are English three-letter names, single or as ranges (Fri-Mon wraps);
 * a time range whose end is not after its start runs past midnight, and its days are the days it
 * starts on. A window without days is every day; one without times is the whole day.
 */
import { systemTimeZone } from './calendar.ts';

export interface TimeWindow {
  /** 0 = Sunday … 6 = Saturday. */
  days: ReadonlySet<number>;
  /** Minutes since midnight; from === 0 && to === 1440 for the whole day. */
  from: number;
  to: number;
}

export interface RateRule {
  /** Bytes per second. */
  rate: number;
  /** In force only within one of these windows; absent = always. */
  when?: readonly string[] | undefined;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A window, or a message saying what is wrong with the text. */
export function parseWindow(text: string): TimeWindow | string {
  const parts = text.trim().split(/\s+/);
  let days: Set<number> | undefined;
  let from = 0;
  let to = 1440;
  for (const part of parts) {
    const time = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(part);
    if (time) {
      const [a, b] = [minutes(time[1]!, time[2]!), minutes(time[3]!, time[4]!)];
      if (a === undefined || b === undefined) return `"${part}": times run from 00:00 to 24:00`;
      [from, to] = [a, b];
      continue;
    }
    if (days) return `"${text}": expected days and/or a time range, e.g. "Mon-Fri 08:00-19:00"`;
    days = new Set();
    for (const item of part.toLowerCase().split(',')) {
      const [a, b] = item.split('-').map((d) => DAYS.indexOf(d.slice(0, 3)));
      if (a === undefined || a < 0 || (b !== undefined && b < 0) || item.split('-').length > 2)
        return `"${part}": days are Mon, Tue, Wed, Thu, Fri, Sat, Sun, as a list (Sat,Sun) or a range (Mon-Fri)`;
      for (let d = a; ; d = (d + 1) % 7) {
        days.add(d);
        if (d === (b ?? a)) break;
      }
    }
  }
  return { days: days ?? new Set([0, 1, 2, 3, 4, 5, 6]), from, to };
}

function minutes(h: string, m: string): number | undefined {
  const v = Number(h) * 60 + Number(m);
  return Number(m) < 60 && v <= 1440 ? v : undefined;
}

/** True when `day` (0–6) at `minute` of the day lies in `w`. */
export function inWindow(w: TimeWindow, day: number, minute: number): boolean {
  if (w.from < w.to) return w.days.has(day) && minute >= w.from && minute < w.to;
  // Past midnight: from `from` to the end of a listed day, and on to `to` the next morning.
  return (w.days.has(day) && minute >= w.from) || (w.days.has((day + 6) % 7) && minute < w.to);
}

/**
 * A function giving the rate in force at an instant: the first rule in force (rules without
 * `when` always are); Infinity when none is, i.e. unlimited. Windows must be valid (the config
 * schema checks them with parseWindow).
 */
export function rateSchedule(rules: readonly RateRule[], timeZone = systemTimeZone()): (at: Date) => number {
  const parsed = rules.map((r) => ({
    rate: r.rate,
    windows: r.when?.map((t) => parseWindow(t)).filter((w): w is TimeWindow => typeof w !== 'string'),
  }));
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return (at) => {
    const parts = Object.fromEntries(fmt.formatToParts(at).map((p) => [p.type, p.value]));
    const day = DAYS.indexOf(String(parts.weekday).toLowerCase());
    const minute = Number(parts.hour) * 60 + Number(parts.minute);
    for (const r of parsed) {
      if (!r.windows || r.windows.some((w) => inWindow(w, day, minute))) return r.rate;
    }
    return Number.POSITIVE_INFINITY;
  };
}
