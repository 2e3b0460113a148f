/**
 * Every node puts every job's due slots into the queue: the same slots from the same config, each
 * under an id derived from the job and the slot time (slot.ts), so however many nodes enqueue a
 * slot, one row exists. A slot is sent a little ahead of its time with `startAfter`, so it is in
 * the queue when it comes due; a node that could not reach the database keeps the slot and sends
 * it once it can. A slot refused because the job's previous run is still queued or running is
 * skipped, as the single daemon skips it.
 */
import type { Config, Job } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { type CronSchedule, compileCron } from '../plan/cron.ts';
import { QUEUE, type RunQueue, sendOptions } from './queue.ts';
import { slotJitterMs, slotJobId } from './slot.ts';

/** How long before its time a slot is put into the queue. */
export const LOOKAHEAD_MS = 3_000;
/** Slots further back than this are not sent late (after an outage); catch-up covers the newest. */
const LATE_LIMIT_MS = 10 * 60_000;

export interface SlotEntry {
  name: string;
  job: Job;
  cron?: CronSchedule | undefined;
  /** The next slot not yet handled by this node (ms), undefined when the job has no schedule. */
  next?: number | undefined;
  skipped: number;
}

export function planEntry(name: string, job: Job, from: number, log: Logger): SlotEntry {
  const e: SlotEntry = { name, job, skipped: 0 };
  if (!job.enabled || !job.schedule) return e;
  try {
    e.cron = compileCron(job.schedule, job.timezone);
  } catch (err) {
    log.error({ job: name, err }, 'Job not scheduled: invalid schedule');
    return e;
  }
  e.next = e.cron.next(new Date(from))?.getTime();
  return e;
}

/** When the slot fires: its time plus the job's jitter (the same on every node). */
export function fireAt(e: SlotEntry, slot: number): number {
  return slot + slotJitterMs(e.name, slot, e.job.jitter);
}

/** What `send` did with a slot. */
export type SlotResult = 'queued' | 'exists' | 'busy';

/** Sends one slot of `e` (ms); 'busy' when the job's previous run still holds its place. */
export async function sendSlot(
  q: RunQueue,
  e: SlotEntry,
  slot: number,
  trigger: 'schedule' | 'catch-up',
): Promise<SlotResult> {
  const id = slotJobId(e.name, slot);
  const data = { job: e.name, trigger, slot: new Date(slot).toISOString() };
  const sent = await q.boss.send(
    QUEUE,
    data,
    sendOptions(e.name, e.job, { id, startAfter: new Date(fireAt(e, slot)), retries: true }),
  );
  if (sent) return 'queued';
  return (await q.state(id)) === undefined ? 'busy' : 'exists';
}

/**
 * Sends the slots of every entry that are due by `now + LOOKAHEAD_MS`. Returns the earliest
 * time something is due next. A database error stops the pass; the slots stay for the next one.
 */
export async function enqueueDue(
  q: RunQueue,
  entries: Iterable<SlotEntry>,
  now: number,
  log: Logger,
  onSkipped: (e: SlotEntry, slot: number) => void,
  /** Fire times of the slots queued ahead of their time: the claim loop wakes at each. */
  fires: number[] = [],
): Promise<number> {
  let wake = Number.POSITIVE_INFINITY;
  const due: Array<Promise<void>> = [];
  for (const e of entries) {
    if (e.next !== undefined && e.next < now - LATE_LIMIT_MS) {
      // After a long outage only the newest missed slot is sent.
      let s: number | undefined = e.next;
      while (s !== undefined && s < now - LATE_LIMIT_MS) s = e.cron?.next(new Date(s))?.getTime();
      e.next = s;
    }
    if (e.next === undefined) continue;
    if (fireAt(e, e.next) - LOOKAHEAD_MS > now) {
      wake = Math.min(wake, fireAt(e, e.next) - LOOKAHEAD_MS);
      continue;
    }
    due.push(sendEntry(q, e, now, log, onSkipped, fires));
  }
  // Concurrently: the pool bounds how many statements run at once.
  await Promise.all(due);
  for (const e of entries) if (e.next !== undefined) wake = Math.min(wake, fireAt(e, e.next) - LOOKAHEAD_MS);
  return wake;
}

async function sendEntry(
  q: RunQueue,
  e: SlotEntry,
  now: number,
  log: Logger,
  onSkipped: (e: SlotEntry, slot: number) => void,
  fires: number[],
): Promise<void> {
  while (e.next !== undefined && fireAt(e, e.next) - LOOKAHEAD_MS <= now) {
    const slot = e.next;
    const r = await sendSlot(q, e, slot, 'schedule');
    if (r === 'busy' && fireAt(e, slot) > now) return; // try again when it is due
    if (r === 'busy') {
      e.skipped++;
      onSkipped(e, slot);
    } else {
      if (fireAt(e, slot) > now) fires.push(fireAt(e, slot));
      if (r === 'queued') log.debug({ job: e.name, slot: new Date(slot).toISOString() }, 'Slot queued');
    }
    e.next = e.cron?.next(new Date(slot))?.getTime();
  }
}

/** Entries for a config, keeping the progress of jobs whose schedule did not change. */
export function replan(
  prev: Map<string, SlotEntry>,
  config: Config,
  now: number,
  log: Logger,
): Map<string, SlotEntry> {
  const next = new Map<string, SlotEntry>();
  for (const [name, job] of Object.entries(config.jobs)) {
    const old = prev.get(name);
    const same =
      old &&
      old.job.schedule === job.schedule &&
      old.job.timezone === job.timezone &&
      old.job.jitter === job.jitter &&
      old.job.enabled === job.enabled;
    if (same) next.set(name, { ...old, job });
    else next.set(name, planEntry(name, job, now, log));
  }
  return next;
}
