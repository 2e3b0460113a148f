/**
 * The control protocol between the CLI and the daemon: HTTP/1.1 with JSON bodies over the unix
 * socket `daemon.socket`. Access control is the socket's file mode (0660): whoever may open it
 * (root and the daemon's group) may use every endpoint, so there is no token to leak.
 *
 *   GET  /v1/ping                 → { pid, version }
 *   GET  /v1/status               → StatusReport
 *   GET  /v1/jobs                 → { jobs: JobInfo[] }
 *   POST /v1/runs  { job }        → EnqueueResponse (joins the job's queued or running run)
 *   GET  /v1/runs/:id             → RunRecord
 *   GET  /v1/runs/:id/events      → NDJSON stream of FollowEvent, ending with { type: "done" }
 *   POST /v1/runs/:id/cancel      → { cancelled: boolean }
 * Errors: a 4xx/5xx status with ErrorBody.
 */
import type { RunRecord } from '../catalog/runs.ts';
import type { JobProgress } from '../jobs/kinds.ts';

export const API_PREFIX = '/v1';

export interface EnqueueResponse {
  runId: string;
  /** True when the job was already queued or running: this request joined that run. */
  alreadyRunning: boolean;
  run: RunRecord;
}

export type FollowEvent =
  | { type: 'state'; run: RunRecord; progress?: JobProgress | undefined }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'done'; run: RunRecord };

export interface ErrorBody {
  error: string;
  hint?: string | undefined;
  /** usage: the request was wrong (unknown job); unavailable: shutting down. */
  code: 'usage' | 'not-found' | 'unavailable' | 'internal';
}

export interface PingResponse {
  pid: number;
  version: string;
}
