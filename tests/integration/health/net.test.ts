import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthCheckSpec } from '../../../src/config/schema.ts';
import type { ActiveCheck, SpecOf } from '../../../src/health/check.ts';
import { checkFor } from '../../../src/health/registry.ts';
import type { KeyPair, TestCerts } from '../../fixtures/health/certs.ts';
import { makeTestCerts } from '../../fixtures/health/certs.ts';
import { type SmtpServer, startSmtpServer } from '../../fixtures/health/smtp-server.ts';
import { deadPort } from './env.ts';

const closers: Array<() => Promise<void> | void> = [];
let certs: TestCerts | undefined;

beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  certs?.cleanup();
});

async function listen<S extends Server | HttpServer>(srv: S): Promise<number> {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => srv.close(() => r())));
  return (srv.address() as { port: number }).port;
}

async function tlsServer(pair: KeyPair): Promise<number> {
  const srv = createTlsServer({ key: pair.key, cert: pair.cert }, (s) => {
    s.on('error', () => {});
    s.end();
  });
  return listen(srv);
}

function run<N extends 'tcp' | 'tls' | 'http'>(
  check: N,
  opts: Record<string, unknown>,
  address = '127.0.0.1',
) {
  const spec = HealthCheckSpec.parse({ check, ...opts }) as SpecOf<N>;
  const c = checkFor(check) as ActiveCheck<N>;
  return c
    .run(spec, { host: 'mail1', address, now: new Date(), signal: new AbortController().signal })
    .then((rs) => rs[0]!);
}

describe('tcp', () => {
  it('banner match, banner mismatch, refused', async () => {
    const smtp = createTcpServer((s) => {
      s.on('error', () => {});
      s.end('220 mail.example.org ESMTP Postfix\r\n');
    });
    const port = await listen(smtp);
    expect(await run('tcp', { port, banner: '^220' })).toMatchObject({
      status: 'ok',
      subject: String(port),
      unit: 'ms',
      message: `127.0.0.1:${port}: 220 mail.example.org ESMTP Postfix`,
    });
    const wrong = await run('tcp', { port, banner: '^\\* OK' });
    expect(wrong.status).toBe('crit');
    expect(wrong.message).toMatch(/answered "220 mail.example.org ESMTP Postfix", not \/\^\\\* OK\//);
    const dead = await deadPort();
    expect(await run('tcp', { port: dead })).toMatchObject({
      status: 'crit',
      message: expect.stringMatching(/connection refused/),
    });
  });

  it('a server that never sends its banner times out as crit', async () => {
    const mute = createTcpServer((s) => s.on('error', () => {}));
    closers.push(() => void mute.unref());
    const port = await listen(mute);
    const r = await run('tcp', { port, banner: '^220', timeout: '1s' });
    expect(r).toMatchObject({ status: 'crit', message: expect.stringMatching(/no reply \(timed out\)/) });
  });
});

describe('tls', () => {
  it('a valid certificate: days left, trusted through the configured CA', async ({ skip }) => {
    if (!certs) return skip();
    const port = await tlsServer(certs.valid);
    const r = await run('tls', { port, servername: 'localhost', ca: certs.caFile });
    expect(r).toMatchObject({ status: 'ok', unit: 'days', threshold: { warn: 21, crit: 7, below: true } });
    expect(r.value).toBeGreaterThanOrEqual(88);
    expect(r.message).toMatch(/certificate for localhost, 127\.0\.0\.1 valid 8\d more days/);
    // Without the CA the chain is not trusted.
    const untrusted = await run('tls', { port, servername: 'localhost' });
    expect(untrusted).toMatchObject({
      status: 'crit',
      message: expect.stringMatching(/not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE \(private CA\? set ca:\)/),
    });
  });

  it('an expired certificate is crit', async ({ skip }) => {
    if (!certs) return skip();
    const port = await tlsServer(certs.expired);
    const r = await run('tls', { port, servername: 'localhost', ca: certs.caFile });
    expect(r.status).toBe('crit');
    expect(r.value).toBeLessThan(-2000);
    expect(r.message).toMatch(/certificate EXPIRED \d+ day\(s\) ago \(Feb +1 00:00:00 2020 GMT\)/);
  });

  it('a certificate for another name is crit', async ({ skip }) => {
    if (!certs) return skip();
    const port = await tlsServer(certs.wrongName);
    const r = await run('tls', { port, servername: 'localhost', ca: certs.caFile });
    expect(r).toMatchObject({
      status: 'crit',
      message: expect.stringMatching(/not valid for localhost \(it names other\.example\)/),
    });
  });

  it('expiring within critDays is crit, within warnDays warn', async ({ skip }) => {
    if (!certs) return skip();
    const port = await tlsServer(certs.expiringSoon);
    expect((await run('tls', { port, servername: 'localhost', ca: certs.caFile })).status).toBe('crit');
    expect((await run('tls', { port, servername: 'localhost', ca: certs.caFile, critDays: 2 })).status).toBe(
      'warn',
    );
  });

  it('SMTP STARTTLS (explicit, as on 25/587)', async ({ skip }) => {
    if (!certs) return skip();
    const smtp: SmtpServer = await startSmtpServer({ tls: certs.valid });
    closers.push(() => smtp.close());
    const r = await run('tls', {
      port: smtp.port,
      starttls: 'smtp',
      servername: 'localhost',
      ca: certs.caFile,
    });
    expect(r).toMatchObject({ status: 'ok', subject: `${smtp.port} starttls` });
    expect(r.message).toMatch(/\(STARTTLS\): certificate for localhost/);
    const plain = await startSmtpServer();
    closers.push(() => plain.close());
    const none = await run('tls', { port: plain.port, starttls: 'smtp', servername: 'localhost' });
    expect(none).toMatchObject({ status: 'crit', message: expect.stringMatching(/does not offer STARTTLS/) });
  });
});

describe('http', () => {
  it('status, body text, latency; {address} is the host address', async () => {
    const srv = createHttpServer((req, res) => {
      if (req.url === '/health') res.end('status: green');
      else res.writeHead(503).end('down');
    });
    const port = await listen(srv);
    expect(await run('http', { url: `http://{address}:${port}/health`, contains: 'green' })).toMatchObject({
      status: 'ok',
      subject: `http://127.0.0.1:${port}/health`,
      data: { httpStatus: 200 },
    });
    expect(await run('http', { url: `http://{address}:${port}/health`, contains: 'red' })).toMatchObject({
      status: 'crit',
      message: 'body lacks "red"',
    });
    expect(await run('http', { url: `http://127.0.0.1:${port}/other` })).toMatchObject({
      status: 'crit',
      message: 'status 503 Service Unavailable',
    });
    const dead = await deadPort();
    expect(await run('http', { url: `http://127.0.0.1:${dead}/` })).toMatchObject({
      status: 'crit',
      message: 'connection refused',
    });
  });
});
