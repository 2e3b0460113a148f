import type { RunChain } from '../catalog/runs.ts';
import type { Job } from '../config/schema.ts';
import { isAbortError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';

/** Live progress of a running job, reported through callbacks (CLI renders, daemon logs/serves). */
export interface JobProgress {
  phase: string;
  /** Bytes read so far; for a backup its source bytes (file content, before compression: src/sizes.ts). */
  bytes: number;
  /** Bytes stored so far. */
  storedBytes?: number;
  files: number;
  /** Expected total of \`bytes\` when known (a backup: the previous one's source bytes), for a percentage and an ETA. */
  totalBytes?: number;
}

export interface JobRunContext {
  services: Services;
  log: Logger;
  signal: AbortSignal;
  runId: string;
  onProgress?: ((p: JobProgress) => void) | undefined;
  /** A backup must be a full, not an incremental (`bo backup now --full`). */
  full?: boolean | undefined;
  /**
   * Throws unless this process may still commit the run's results (a cluster node's lease of the
   * run, cluster/scheduler.ts): called right before a manifest commit and before prune deletes.
   */
  fence?: (() => Promise<void>) | undefined;
}

/** What a finished run reports; the run door (run-recorded.ts) records it in the run history. */
export interface JobRunResult {
  backupId?: string;
  /** Bytes the run read; a backup's source bytes. */
  bytes?: number;
  /** A backup's stored bytes: archive, index and dumps. */
  storedBytes?: number;
  files?: number;
  /** One line for humans. */
  summary: string;
  /** A short word on what was made, for the result line ("incremental, level 2"). */
  note?: string;
  /** A backup's place in its incremental chain. */
  chain?: RunChain;
}

export type JobRunner<J extends Job = Job> = (
  name: string,
  job: J,
  ctx: JobRunContext,
) => Promise<JobRunResult>;

/**
 * The one rule for how a run that threw ended: cancelled when its signal was aborted (Ctrl-C,
 * SIGTERM, a cancel request, the daemon's shutdown) or the error is an abort; failed otherwise.
 */
export function failureOutcome(err: unknown, signal: AbortSignal): 'cancelled' | 'failed' {
  return signal.aborted || isAbortError(err) ? 'cancelled' : 'failed';
}

/** The one host a job runs against (shown in status and logs); undefined for other kinds. */
export function jobHost(job: Job): string | undefined {
  return 'host' in job && typeof job.host === 'string' ? job.host : undefined;
}
