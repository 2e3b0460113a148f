/**
 * The daemon's control endpoint: HTTP/JSON on a unix socket (see protocol.ts for the routes and
 * why a socket). One stale socket file from a crashed daemon is removed; a live one means another
 * daemon is running, which is refused.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { RunRecord } from '../catalog/runs.ts';
import { BoError, errorMessage, UsageError } from '../errors.ts';
import type { JobProgress } from '../jobs/kinds.ts';
import { runBindings } from '../jobs/run-recorded.ts';
import type { Logger } from '../log.ts';
import type { RunWatcher } from './active-run.ts';
import { API_PREFIX, type EnqueueResponse, type ErrorBody, type FollowEvent } from './protocol.ts';
import type { JobInfo, StatusReport } from './status.ts';

/** What the endpoint serves; the daemon wires these to its scheduler and history. */
/** What the endpoint serves; a cluster node answers some from its database, hence the promises. */
export interface ControlHandlers {
  ping(): { pid: number; version: string };
  status(): StatusReport | Promise<StatusReport>;
  jobs(): JobInfo[];
  enqueue(job: string, opts?: { full?: boolean }): EnqueueResponse | Promise<EnqueueResponse>;
  run(id: string): RunRecord | undefined | Promise<RunRecord | undefined>;
  watch(id: string, w: RunWatcher): (() => void) | undefined;
  cancel(id: string): boolean;
}

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

/** Progress lines per follower at most this often; the last one always gets through. */
const PROGRESS_EVERY_MS = 250;

export async function startControlServer(opts: {
  path: string;
  log: Logger;
  handlers: ControlHandlers;
}): Promise<ControlServer> {
  const { path, log, handlers: h } = opts;
  await clearStaleSocket(path).catch((err: unknown) => {
    throw socketError(path, err);
  });
  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => fail(res, err));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://bo');
    const parts = url.pathname.startsWith(`${API_PREFIX}/`)
      ? url.pathname.slice(API_PREFIX.length + 1).split('/')
      : [];
    const [what, id, sub] = parts;
    if (req.method === 'GET' && what === 'ping') return send(res, 200, h.ping());
    if (req.method === 'GET' && what === 'status') return send(res, 200, await h.status());
    if (req.method === 'GET' && what === 'jobs') return send(res, 200, { jobs: h.jobs() });
    if (what === 'runs' && id === undefined && req.method === 'POST') {
      const body = (await readJson(req)) as { job?: unknown; full?: unknown };
      if (typeof body.job !== 'string') throw new UsageError('body must be {"job": NAME}');
      const r = await h.enqueue(body.job, { full: body.full === true });
      log.info({ ...runBindings(r.run), joined: r.alreadyRunning }, 'Run requested');
      return send(res, 202, r);
    }
    if (what === 'runs' && id !== undefined) {
      if (req.method === 'GET' && sub === undefined) {
        const r = await h.run(id);
        return r ? send(res, 200, r) : send(res, 404, notFound(id));
      }
      if (req.method === 'GET' && sub === 'events') return follow(id, req, res);
      if (req.method === 'POST' && sub === 'cancel') return send(res, 200, { cancelled: h.cancel(id) });
    }
    send(res, 404, {
      error: `no such endpoint: ${req.method} ${url.pathname}`,
      code: 'not-found',
    } satisfies ErrorBody);
  }

  async function follow(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const run = await h.run(id);
    if (!run) {
      send(res, 404, notFound(id));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (e: FollowEvent) => res.write(`${JSON.stringify(e)}\n`);
    let pending: JobProgress | undefined;
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      if (pending) line({ type: 'progress', progress: pending });
      pending = undefined;
    };
    if (run.outcome !== undefined) {
      line({ type: 'done', run });
      res.end();
      return;
    }
    line({ type: 'state', run });
    const stop = h.watch(id, {
      onStart: (r) => line({ type: 'state', run: r }),
      onProgress: (p) => {
        pending = p;
        timer ??= setTimeout(flush, PROGRESS_EVERY_MS);
      },
      onDone: (r) => {
        clearTimeout(timer);
        flush();
        line({ type: 'done', run: r });
        res.end();
      },
    });
    if (!stop) {
      line({ type: 'done', run: (await h.run(id)) ?? run });
      res.end();
      return;
    }
    req.on('close', () => {
      clearTimeout(timer);
      stop();
    });
  }

  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o750 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(path, 0o660);
  } catch (err) {
    server.close();
    throw socketError(path, err);
  }
  server.on('error', (err) => log.error({ err }, 'Control endpoint error'));
  log.info({ socket: path }, 'Control endpoint listening');
  return {
    path,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function notFound(id: string): ErrorBody {
  return { error: `no run ${id}`, code: 'not-found' };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, err: unknown): void {
  if (res.headersSent) res.destroy();
  else if (err instanceof UsageError)
    send(res, 400, { error: err.message, hint: err.hint, code: 'usage' } satisfies ErrorBody);
  else if (err instanceof BoError)
    send(res, 503, { error: err.message, hint: err.hint, code: 'unavailable' } satisfies ErrorBody);
  else send(res, 500, { error: errorMessage(err), code: 'internal' } satisfies ErrorBody);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 65_536) throw new UsageError('request body too large');
  }
  try {
    return JSON.parse(text || '{}');
  } catch {
    throw new UsageError('request body is not JSON');
  }
}

/** Unix socket paths longer than this (sun_path) cannot be bound; Node says only EINVAL. */
const MAX_SOCKET_PATH = 108;

/** Why the control socket cannot be set up, as a message for the admin rather than a stack trace. */
function socketError(path: string, err: unknown): unknown {
  if (err instanceof BoError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, [string, string]> = {
    EACCES: [
      'permission denied',
      `the daemon's user needs write access to ${dirname(path)} (systemd: RuntimeDirectory=bo), or set daemon.socket`,
    ],
    EPERM: ['operation not permitted', `check the owner and mode of ${dirname(path)}, or set daemon.socket`],
    EROFS: ['read-only file system', 'set daemon.socket to a writable place, e.g. /run/bo/bo.sock'],
    ENOENT: ['a directory on the way does not exist', `create ${dirname(path)} or set daemon.socket`],
    ENOTDIR: ['a part of the path is not a directory', 'set daemon.socket to a path under a directory'],
    EADDRINUSE: [
      'address already in use',
      'another process holds the socket; stop it, remove the file, or set another daemon.socket',
    ],
    ENAMETOOLONG: [
      `the path is longer than the ${MAX_SOCKET_PATH} bytes a unix socket allows`,
      'set daemon.socket to a shorter path',
    ],
  };
  const known = code ? why[code] : undefined;
  if (!known) return err;
  return new BoError(`cannot create the control socket ${path}: ${known[0]}`, { hint: known[1], cause: err });
}

/**
 * Removes a socket file nobody listens on; refuses when another daemon answers on it, and
 * never removes anything that is not a socket (daemon.socket pointing at a config file).
 */
async function clearStaleSocket(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw Object.assign(new Error('socket path too long'), { code: 'ENAMETOOLONG' });
  }
  const existing = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing && !existing.isSocket()) {
    throw new UsageError(`daemon.socket ${path} exists and is not a socket`, {
      hint: 'point daemon.socket at a path of its own, e.g. /run/bo/bo.sock',
    });
  }
  if (!existing) return;
  const live = await new Promise<boolean>((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    // Only "nobody listens" makes it stale; EACCES says nothing about a daemon behind it.
    s.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? resolve(false) : reject(err),
    );
  });
  if (live) {
    throw new UsageError(`another bo daemon is already listening on ${path}`, {
      hint: 'stop it first (systemctl stop bo), or give this one another daemon.socket',
    });
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
