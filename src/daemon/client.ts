/**
 * The CLI side of the control endpoint. `connectDaemon` answers "is a daemon running?": undefined
 * when nothing listens on the socket (the CLI then works alone, e.g. runs a backup inline).
 */
import { request } from 'node:http';
import type { RunRecord } from '../catalog/runs.ts';
import type { Config } from '../config/schema.ts';
import { BoError, CancelledError, NotFoundError, UsageError } from '../errors.ts';
import type { JobProgress } from '../jobs/kinds.ts';
import {
  API_PREFIX,
  type EnqueueResponse,
  type ErrorBody,
  type FollowEvent,
  type PingResponse,
} from './protocol.ts';
import type { JobInfo, StatusReport } from './status.ts';

export interface DaemonClient {
  socket: string;
  pid: number;
  status(): Promise<StatusReport>;
  jobs(): Promise<JobInfo[]>;
  /** Queues a run of `job`, or joins its queued/running run: never two runs of one job. */
  enqueue(job: string, opts?: { full?: boolean }): Promise<EnqueueResponse>;
  run(runId: string): Promise<RunRecord | undefined>;
  /**
   * Follows a run until it ends and returns its final record. `onProgress` gets live progress.
   * Aborting `signal` stops following (rejecting with CancelledError); the run goes on.
   */
  follow(runId: string, onProgress?: (p: JobProgress) => void, signal?: AbortSignal): Promise<RunRecord>;
  /** Cancels a queued or running run; false when it had already ended. */
  cancel(runId: string): Promise<boolean>;
}

/** Codes meaning "no daemon here": no socket file, or a stale one nobody listens on. */
const NOT_RUNNING = new Set(['ENOENT', 'ECONNREFUSED']);

/** How long a request may wait for the daemon's answer (a stopped or wedged daemon never answers). */
export const DAEMON_TIMEOUT_MS = 10_000;

export interface ClientOptions {
  /** Aborts pending requests (the CLI's SIGINT/SIGTERM); `cancel` ignores it, see there. */
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
}

export async function connectDaemon(
  config: Pick<Config, 'daemon'> | string,
  opts: ClientOptions = {},
): Promise<DaemonClient | undefined> {
  const socket = typeof config === 'string' ? config : config.daemon.socket;
  const timeoutMs = opts.timeoutMs ?? DAEMON_TIMEOUT_MS;
  const target: Target = { socket, timeoutMs, signal: opts.signal };
  const call = (method: 'GET' | 'POST', path: string, body?: unknown) => ask(target, method, path, body);
  let ping: PingResponse;
  try {
    ping = (await call('GET', 'ping')) as PingResponse;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code && NOT_RUNNING.has(code)) return undefined;
    if (code === 'EACCES') {
      throw new BoError(`cannot talk to the bo daemon on ${socket}: permission denied`, {
        hint: "run as root or as a member of the daemon's group (e.g. `usermod -aG bo $USER`)",
        cause: err,
      });
    }
    if (err instanceof BoError) throw err;
    throw new BoError(`cannot talk to the bo daemon on ${socket}: ${(err as Error).message}`, { cause: err });
  }
  return {
    socket,
    pid: ping.pid,
    status: () => call('GET', 'status') as Promise<StatusReport>,
    jobs: async () => ((await call('GET', 'jobs')) as { jobs: JobInfo[] }).jobs,
    enqueue: (job, opts) =>
      call('POST', 'runs', { job, ...(opts?.full ? { full: true } : {}) }) as Promise<EnqueueResponse>,
    async run(runId) {
      try {
        return (await call('GET', `runs/${encodeURIComponent(runId)}`)) as RunRecord;
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    follow: (runId, onProgress, signal) => follow(target, runId, onProgress, signal),
    // Cancelling is what a Ctrl-C'd command does last, after its signal fired: timeout only.
    cancel: async (runId) => {
      const path = `runs/${encodeURIComponent(runId)}/cancel`;
      const r = (await ask({ ...target, signal: undefined }, 'POST', path, {})) as { cancelled: boolean };
      return r.cancelled;
    },
  };
}

interface Target {
  socket: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** The error for a daemon that accepted the connection but did not answer in time. */
function notAnswering(t: Target): BoError {
  return new BoError(
    `daemon not answering on ${t.socket} (no reply within ${Math.round(t.timeoutMs / 1000)} s)`,
    {
      hint: 'is it stopped or overloaded? check `systemctl status bo` and `journalctl -u bo`',
    },
  );
}

/** Destroys the request and rejects after the timeout or when the caller's signal aborts; returns the disarm. */
function deadline(t: Target, reject: (err: Error) => void, destroy: () => void): () => void {
  const fail = (err: Error) => {
    destroy();
    reject(err);
  };
  const timer = setTimeout(() => fail(notAnswering(t)), t.timeoutMs);
  const onAbort = () => fail(new CancelledError('stopped waiting for the daemon'));
  t.signal?.addEventListener('abort', onAbort, { once: true });
  if (t.signal?.aborted) onAbort();
  return () => {
    clearTimeout(timer);
    t.signal?.removeEventListener('abort', onAbort);
  };
}

function ask(t: Target, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: t.socket,
        path: `${API_PREFIX}/${path}`,
        method,
        agent: false,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const json = JSON.parse(text) as unknown;
            if ((res.statusCode ?? 500) >= 400) reject(daemonError(json as ErrorBody));
            else resolve(json);
          } catch {
            reject(new BoError(`the bo daemon sent an unreadable answer (HTTP ${res.statusCode})`));
          }
        });
      },
    );
    const disarm = deadline(t, reject, () => req.destroy());
    req.on('close', disarm);
    req.on('error', reject);
    req.end(payload);
  });
}

function daemonError(body: ErrorBody): BoError {
  const opts = body.hint ? { hint: body.hint } : {};
  if (body.code === 'usage') return new UsageError(body.error, opts);
  if (body.code === 'not-found') return new NotFoundError(body.error, opts);
  return new BoError(`bo daemon: ${body.error}`, opts);
}

function follow(
  t: Target,
  runId: string,
  onProgress?: (p: JobProgress) => void,
  signal?: AbortSignal,
): Promise<RunRecord> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('stopped following the run'));
    let done: RunRecord | undefined;
    const req = request(
      {
        socketPath: t.socket,
        path: `${API_PREFIX}/runs/${encodeURIComponent(runId)}/events`,
        method: 'GET',
        agent: false,
      },
      (res) => {
        // The daemon answered; from here the stream lasts as long as the run does.
        clearTimeout(answer);
        res.setEncoding('utf8');
        if ((res.statusCode ?? 500) >= 400) {
          let text = '';
          res.on('data', (d: string) => (text += d));
          res.on('end', () => reject(daemonError(safeJson(text))));
          return;
        }
        let buf = '';
        res.on('data', (d: string) => {
          buf += d;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            const e = JSON.parse(line) as FollowEvent;
            if (e.type === 'progress') onProgress?.(e.progress);
            else if (e.type === 'state' && e.progress) onProgress?.(e.progress);
            else if (e.type === 'done') done = e.run;
          }
        });
        res.on('end', () =>
          done
            ? resolve(done)
            : reject(new BoError('the bo daemon closed the connection before the run ended')),
        );
        res.on('error', reject);
      },
    );
    const answer = setTimeout(() => {
      req.destroy();
      reject(notAnswering(t));
    }, t.timeoutMs);
    const onAbort = () => {
      req.destroy();
      reject(new CancelledError('stopped following the run'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => {
      clearTimeout(answer);
      signal?.removeEventListener('abort', onAbort);
    });
    req.on('error', (err) => (signal?.aborted ? undefined : reject(err)));
    req.end();
  });
}

function safeJson(text: string): ErrorBody {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return { error: text || 'unknown error', code: 'internal' };
  }
}
