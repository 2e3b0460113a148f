import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Registry } from 'prom-client';
import { errorMessage } from '../errors.ts';
import { registerHealthMetrics } from '../health/metrics.ts';
import { type ClusterPanel, clusterSection } from '../health/render/cluster-html.ts';
import { renderHtml } from '../health/render/html.ts';
import type { Report } from '../health/report.ts';
import type { Logger } from '../log.ts';

export interface HttpServerOptions {
  /** Loopback by default: the page has no authentication. Port 0 picks a free port. */
  listen: { host: string; port: number };
  /** The latest report (the daemon reads it from the state database). */
  getReport: () => Report | undefined;
  /** prom-client registry served at /metrics; the bo_health_* gauges are added to it (the daemon adds its own). */
  registry: Registry;
  log: Logger;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /** Page reload interval; default 60 s. */
  refreshSeconds?: number;
  /** A cluster node's view of the cluster, shown on the page. */
  cluster?: (() => ClusterPanel) | undefined;
}

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The daemon's small HTTP face: `/` the latest health report as a phone-friendly page,
 * `/metrics` Prometheus text format, `/healthz` liveness. GET and HEAD only.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const { log } = opts;
  registerHealthMetrics(opts.registry, opts.getReport);
  if (!isLoopback(opts.listen.host)) {
    log.warn(
      { host: opts.listen.host },
      'HTTP status page listens beyond loopback; it has no authentication',
    );
  }
  const server = createServer((req, res) => {
    handle(req, res, opts).catch((err) => {
      log.error({ err, url: req.url }, 'HTTP request failed');
      if (!res.headersSent)
        send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', req.method === 'HEAD');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`cannot listen on ${opts.listen.host}:${opts.listen.port}: ${errorMessage(err)}`)),
    );
    server.listen(opts.listen.port, opts.listen.host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const host = opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host;
  const url = `http://${host}:${port}/`;
  log.info({ url }, 'HTTP status page listening');
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  opts.signal?.addEventListener('abort', () => void close(), { once: true });
  return { url, port, close };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', head);
  }
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/healthz') return send(res, 200, 'text/plain; charset=utf-8', 'ok\n', head);
  if (path === '/metrics')
    return send(res, 200, opts.registry.contentType, await opts.registry.metrics(), head);
  if (path === '/' || path === '/index.html') {
    const report = opts.getReport();
    const cluster = opts.cluster?.();
    const html = report
      ? renderHtml(report, { now: new Date(), refreshSeconds: opts.refreshSeconds ?? 60, cluster })
      : `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><title>bo</title><p style="font:20px system-ui;padding:1rem">No health report yet: the first health job has not finished.</p>${cluster ? `<div style="font:16px system-ui;padding:0 1rem">${clusterSection(cluster, new Date())}</div>` : ''}`;
    return send(res, 200, 'text/html; charset=utf-8', html, head);
  }
  return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
  res.end(head ? undefined : body);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
