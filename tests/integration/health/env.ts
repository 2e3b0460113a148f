import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { silentLogger } from '../../../src/log.ts';
import { createServices, type Services } from '../../../src/services.ts';

/** A parsed config with its own state dir; `raw` is the YAML document as an object. */
export function testConfig(raw: Record<string, unknown>): { config: Config; dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bo-health-'));
  const config = parseResolved(Config, { stateDir: join(dir, 'state'), ...raw });
  return { config, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testServices(config: Config): Services {
  return createServices({ config, log: silentLogger(), clock: systemClock });
}

/** A port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A TCP server that accepts connections and never says a word (a hung sshd). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as { port: number }).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** A TCP proxy in front of a loopback port that counts the connections it accepts (SSH connections opened). */
export async function countingProxy(
  target: number,
): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const { connect } = await import('node:net');
  let count = 0;
  const sockets = new Set<import('node:net').Socket>();
  const srv: Server = createServer((client) => {
    count++;
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as { port: number }).port,
    connections: () => count,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
