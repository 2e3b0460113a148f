/**
 * When a cron schedule fires next, in an IANA time zone. node-cron parses and validates the
 * expression (5 or 6 fields, names, ranges, steps, L, W, #, @daily…), but its own timers run on
 * the real clock; computing the times here lets the daemon run on an injected clock. Pure.
 *
 * Semantics are node-cron's (day-of-month AND day-of-week must both match), plus a rule for
 * daylight-saving changes that node-cron lacks: a local time that does not exist (the hour
 * skipped in spring) fires shifted forward by the gap (02:30 → 03:30), so a 02:00 backup still
 * runs that day; a local time that happens twice (autumn) fires once, at its first occurrence.
 */
import { validateDetailed } from 'node-cron';
import { UsageError } from '../errors.ts';

export interface CronSchedule {
  expression: string;
  timeZone: string;
  /** The first fire time strictly after `after`; undefined when there is none within 10 years. */
  next(after: Date): Date | undefined;
}

type Field = Array<number | string>;
const DAY = 86_400_000;
const MAX_DAYS = 3660;

/** Why node-cron rejects the expression, or undefined when it is valid. */
export function cronProblem(expression: string): string | undefined {
  try {
    const v = validateDetailed(expression);
    return v.valid ? undefined : v.errors.map((e) => e.message).join('; ');
  } catch (err) {
    return (err as Error).message;
  }
}

export function compileCron(expression: string, timeZone?: string): CronSchedule {
  const v = validateDetailed(expression);
  if (!v.valid || !v.fields)
    throw new UsageError(`invalid cron expression "${expression}": ${cronProblem(expression)}`);
  // Asked once: creating an Intl.DateTimeFormat per schedule costs ~35 kB of native memory each.
  systemZone ??= Intl.DateTimeFormat().resolvedOptions().timeZone;
  const tz = timeZone ?? systemZone;
  const offsetAt = zoneOffsets(tz);
  const nums = (f: Field) => f.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  const seconds = nums(v.fields.second);
  const minutes = nums(v.fields.minute);
  const hours = nums(v.fields.hour);
  const months = new Set(nums(v.fields.month));
  const { dayOfMonth, dayOfWeek } = v.fields;

  /** The instant local wall-clock time reads as (first occurrence; gaps shift forward). */
  function instant(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
    const guess = Date.UTC(y, mo - 1, d, h, mi, s);
    const before = offsetAt(guess - DAY);
    const after = offsetAt(guess + DAY);
    const valid = [before, after].map((o) => guess - o).filter((t) => guess - offsetAt(t) === t);
    return valid.length > 0 ? Math.min(...valid) : guess - before;
  }

  function next(from: Date): Date | undefined {
    const base = Math.floor(from.getTime() / 1000) * 1000;
    const local = new Date(base + offsetAt(base));
    let y = local.getUTCFullYear();
    let mo = local.getUTCMonth() + 1;
    let d = local.getUTCDate();
    for (let i = 0; i < MAX_DAYS; i++) {
      if (
        months.has(mo) &&
        matchesDayOfMonth(dayOfMonth, y, mo, d) &&
        matchesDayOfWeek(dayOfWeek, y, mo, d)
      ) {
        for (const h of hours) {
          if (instant(y, mo, d, h, 59, 59) <= base) continue;
          for (const mi of minutes) {
            if (instant(y, mo, d, h, mi, 59) <= base) continue;
            for (const s of seconds) {
              const t = instant(y, mo, d, h, mi, s);
              if (t > base) return new Date(t);
            }
          }
        }
      }
      const n = new Date(Date.UTC(y, mo - 1, d + 1));
      [y, mo, d] = [n.getUTCFullYear(), n.getUTCMonth() + 1, n.getUTCDate()];
    }
    return undefined;
  }

  return { expression, timeZone: tz, next };
}

/**
 * Offset functions per zone, shared by every schedule in that zone: an Intl.DateTimeFormat
 * costs tens of kB of native memory, and a daemon may hold hundreds of schedules.
 */
const zones = new Map<string, (ms: number) => number>();
let systemZone: string | undefined;

function zoneOffsets(timeZone: string): (ms: number) => number {
  let f = zones.get(timeZone);
  if (!f) {
    f = makeZoneOffsets(timeZone);
    zones.set(timeZone, f);
  }
  return f;
}

/** UTC offset (ms) of a zone at an instant; cached per 15-minute slot (offsets change on those). */
function makeZoneOffsets(timeZone: string): (ms: number) => number {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const cache = new Map<number, number>();
  return (ms) => {
    const slot = Math.floor(ms / 900_000);
    let off = cache.get(slot);
    if (off === undefined) {
      const p: Record<string, number> = {};
      for (const part of fmt.formatToParts(slot * 900_000))
        if (part.type !== 'literal') p[part.type] = Number(part.value);
      off = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - slot * 900_000;
      if (cache.size > 4096) cache.clear();
      cache.set(slot, off);
    }
    return off;
  };
}

function lastDay(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

function weekday(y: number, mo: number, d: number): number {
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDay();
}

/** The weekday nearest to day `target` within the month (node-cron's W). */
function nearestWeekday(y: number, mo: number, target: number): number {
  const last = lastDay(y, mo);
  if (target < 1 || target > last) return -1;
  const wd = weekday(y, mo, target);
  if (wd === 6) return target === 1 ? 3 : target - 1;
  if (wd === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(field: Field, y: number, mo: number, d: number): boolean {
  const last = lastDay(y, mo);
  return field.some((v) => {
    if (typeof v === 'number') return v === d;
    if (v === 'L') return d === last;
    const w = /^(\d{1,2}|L)W$/.exec(v);
    if (w) return nearestWeekday(y, mo, w[1] === 'L' ? last : Number(w[1])) === d;
    const off = /^L-(\d{1,2})$/.exec(v);
    return off ? last - Number(off[1]) === d : false;
  });
}

function matchesDayOfWeek(field: Field, y: number, mo: number, d: number): boolean {
  const wd = weekday(y, mo, d);
  return field.some((v) => {
    if (typeof v === 'number') return v % 7 === wd;
    const nth = /^([0-7])#([1-5])$/.exec(v);
    if (nth) return Number(nth[1]) % 7 === wd && Math.floor((d - 1) / 7) + 1 === Number(nth[2]);
    const lastOf = /^([0-7])L$/i.exec(v);
    return lastOf ? Number(lastOf[1]) % 7 === wd && d + 7 > lastDay(y, mo) : false;
  });
}
