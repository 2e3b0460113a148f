import { createServer, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the proxy saw it: S3 operation hints from method and query. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

/**
 * Changes to an upstream answer: headers replaced and/or a body rewrite (buffered). `status`
 * answers with that HTTP status and an S3 error body instead, after the request reached the
 * server (which did what it asked: a lost success). `hold` is called once the server answered,
 * and the answer waits for it.
 */
export interface Fault {
  headers?: Record<string, string>;
  body?: (text: string) => string;
  status?: number;
  hold?: () => Promise<void>;
}

const ERROR_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>injected by the test proxy</Message></Error>';

/**
 * An HTTP proxy in front of the real S3 server that can corrupt answers, to test what the
 * storage does when a server (or the path to it) lies: wrong ETags, wrong sizes, an error for a
 * request that was carried out, an answer that takes its time.
 */
export async function startFaultProxy(
  upstream: string,
  fault: (req: SeenRequest) => Fault | undefined,
): Promise<{ endpoint: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', upstream);
    const info = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams };
    seen.push(info);
    const f = fault(info);
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (ures) => void answer(ures),
    );
    async function answer(ures: IncomingMessage): Promise<void> {
      if (f?.status !== undefined) {
        ures.resume(); // the server's real answer (a success) is lost on the way back
        await new Promise((resolve) => ures.on('end', resolve));
        await f.hold?.();
        res.writeHead(f.status, { 'content-type': 'application/xml', 'content-length': ERROR_BODY.length });
        res.end(ERROR_BODY);
        return;
      }
      await f?.hold?.();
      const headers: IncomingHttpHeaders = { ...ures.headers, ...f?.headers };
      if (!f?.body) {
        res.writeHead(ures.statusCode ?? 502, headers);
        ures.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      ures.on('data', (c: Buffer) => chunks.push(c));
      ures.on('end', () => {
        const body = Buffer.from(f.body?.(Buffer.concat(chunks).toString('utf8')) ?? '');
        headers['content-length'] = String(body.length);
        delete headers['transfer-encoding'];
        res.writeHead(ures.statusCode ?? 502, headers);
        res.end(body);
      });
    }
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
