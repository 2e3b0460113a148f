/**
 * Pure rules of the cluster's schedule: every node computes the same slots from the same config,
 * and a slot's queue job id is derived from the job and the slot time, so the nodes that all
 * enqueue it insert one row (the others' inserts conflict and do nothing): exactly once.
 */
import { createHash } from 'node:crypto';

/** The queue job id of a job's scheduled slot: a UUID (version 8, name-based) from job and time. */
export function slotJobId(job: string, slotMs: number): string {
  const h = createHash('sha256')
    .update(`bo-slot\n${job}\n${new Date(slotMs).toISOString()}`)
    .digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The jitter of a slot, the same on every node: a fraction of `jitterMs` from the slot's hash. */
export function slotJitterMs(job: string, slotMs: number, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  const h = createHash('sha256').update(`bo-jitter\n${job}\n${slotMs}`).digest();
  return Math.floor((h.readUInt32BE(0) / 0x1_0000_0000) * (jitterMs + 1));
}

/**
 * The run id of an attempt of a queue job: the queue job's id for the first attempt (so a run
 * requested through one node can be followed through any other before it starts), with
 * `-r<N>` for the N-th retry.
 */
export function attemptRunId(queueJob: string, retryCount: number): string {
  return retryCount === 0 ? queueJob : `${queueJob}-r${retryCount}`;
}

/** The queue job a run id stands for. */
export function queueJobOf(runId: string): string {
  return runId.replace(/-r\d+$/, '');
}
