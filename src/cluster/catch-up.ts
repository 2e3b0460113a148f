/**
 * What the cluster owes when a node starts: for each job with catchUp, the newest schedule time
 * that passed since its last success (or since the cluster first saw it) without a run. Every
 * starting node computes the same slot and enqueues it under the slot's id, so a catch-up runs
 * once however many nodes start together; a slot another node already ran is not run again.
 */

import { catchUpBaseline } from '../daemon/timing.ts';
import type { Logger } from '../log.ts';
import { type SlotEntry, sendSlot } from './enqueuer.ts';
import type { RunQueue } from './queue.ts';
import type { ClusterRuns } from './runs.ts';

export async function catchUpSlots(o: {
  queue: RunQueue;
  runs: ClusterRuns;
  entries: Iterable<SlotEntry>;
  now: number;
  log: Logger;
}): Promise<Array<{ name: string; slot: number }>> {
  const [successes, last] = await Promise.all([o.runs.latestFinished({ ok: true }), o.runs.latestFinished()]);
  const entries = [...o.entries];
  const firstSeen = await o.runs.jobsFirstSeen(
    entries.map((e) => e.name),
    new Date(o.now).toISOString(),
  );
  const due: Array<{ name: string; slot: number }> = [];
  for (const e of entries) {
    if (!e.job.enabled || !e.job.catchUp || !e.cron) continue;
    const baseline = catchUpBaseline(successes.get(e.name), firstSeen.get(e.name));
    if (baseline === undefined) continue;
    // The newest slot in (baseline, now]: catching up runs a job once, not once per missed time.
    let slot: number | undefined;
    for (let s = e.cron.next(new Date(baseline))?.getTime(); s !== undefined && s <= o.now; ) {
      slot = s;
      s = e.cron.next(new Date(s))?.getTime();
    }
    if (slot === undefined) continue;
    // Already run (by a node that was up), or being run: nothing owed.
    const newest = last.get(e.name);
    if (newest?.scheduledAt && Date.parse(newest.scheduledAt) >= slot) continue;
    if ((await sendSlot(o.queue, e, slot, 'catch-up')) === 'queued') due.push({ name: e.name, slot });
  }
  return due;
}
