import type { Client, ClientChannel } from 'ssh2';
import type { Host as HostConfig } from '../config/schema.ts';
import { CancelledError, errorMessage, RemoteError, throwIfAborted } from '../errors.ts';
import { currentLogContext, withLogContext } from '../log.ts';
import { shellQuote } from '../plan/shell.ts';
import { channelProcess } from './channel.ts';
import { connectSsh } from './connect.ts';
import { where } from './describe.ts';
import type { ExecOptions, Host, RemoteProcess } from './host.ts';
import { createKiller, type Killer } from './killer.ts';
import { fingerprint, keyType } from './known-hosts.ts';
import { createLimiter } from './limit.ts';
import { groupMarker } from './pgid.ts';
import type { HostDeps } from './registry.ts';
import { runCommand } from './run.ts';
import type { Supervised } from './supervise.ts';

/**
 * Channels open at once on the one connection; more exec calls wait. OpenSSH's MaxSessions
 * defaults to 10 and a refused channel is an error, so stay below it.
 */
export const MAX_CHANNELS = 8;

/** An SSH host; also reports which key the server presented (for `bo hosts check`). */
export interface SshHost extends Host {
  presentedKey(): { fingerprint: string; type: string } | undefined;
}

interface Connection {
  client: Client;
  active: Set<Supervised>;
  /** Whose log context each command was started in (one connection serves several runs). */
  callers: WeakMap<Supervised, ReturnType<typeof currentLogContext>>;
  killer: Killer;
  /** Why the connection ended, once it has. */
  lost?: string;
}

/**
 * A host reached over SSH with ssh2: connects lazily on the first exec, multiplexes commands
 * as channels over one connection, and reconnects on the next exec after the connection dropped.
 */
export function createSshHost(name: string, cfg: HostConfig, deps: HostDeps): SshHost {
  const log = deps.log.child({ host: name });
  const slots = createLimiter(MAX_CHANNELS);
  let conn: Connection | undefined;
  let connecting: Promise<Connection> | undefined;
  let hostKey: Buffer | undefined;
  /** Lets close() give up on a handshake still in progress (a hung host must not delay exit). */
  let opening: AbortController | undefined;

  async function connection(signal?: AbortSignal): Promise<Connection> {
    if (conn && !conn.lost) return conn;
    connecting ??= open().finally(() => {
      connecting = undefined;
    });
    // Aborting one caller must not tear down a connection others are waiting for.
    return abortable(connecting, signal);
  }

  async function open(): Promise<Connection> {
    const started = Date.now();
    opening = new AbortController();
    const { client, hostKey: key } = await connectSsh(name, cfg, opening.signal);
    hostKey = key;
    const c: Connection = {
      client,
      active: new Set(),
      callers: new WeakMap(),
      killer: createKiller(client, cfg.sudo, log),
    };
    client.on('error', (err) => {
      c.lost ??= errorMessage(err);
    });
    client.on('close', () => {
      c.lost ??= 'connection closed';
      if (conn === c) conn = undefined;
      // Logged once per run that had a command on it, in that run's log context (runId, job):
      // the socket's own context is whichever run happened to open the connection.
      const runs = new Set([...c.active].map((p) => c.callers.get(p)));
      const err = new RemoteError(`lost connection to ${where(name, cfg)}: ${c.lost}`);
      for (const p of c.active) p.fail(err);
      const warn = () => log.warn({ reason: c.lost }, 'SSH connection lost');
      for (const fields of runs) {
        if (fields) withLogContext(fields, warn);
        else warn();
      }
    });
    log.debug(
      { address: cfg.address, port: cfg.port, ms: Date.now() - started, fingerprint: fingerprint(key) },
      'SSH connected',
    );
    conn = c;
    return c;
  }

  async function exec(command: string, opts: ExecOptions = {}): Promise<RemoteProcess> {
    throwIfAborted(opts.signal);
    const release = await slots.acquire(opts.signal);
    try {
      const c = await connection(opts.signal);
      const marker = groupMarker(cfg.sudo ? `sudo -n sh -c ${shellQuote(command)}` : command);
      const ch = await openChannel(c, marker.command);
      const { process, supervised } = channelProcess(ch, {
        host: name,
        signal: opts.signal,
        idleTimeoutMs: opts.idleTimeoutMs ?? cfg.commandTimeout,
        marker,
        // After the connection is gone there is no channel to kill from; sshd hangs up on its own.
        killGroup: (pgid) => {
          if (!c.lost) c.killer.kill(pgid);
        },
      });
      c.active.add(supervised);
      c.callers.set(supervised, currentLogContext());
      // The slot is free when the channel is, not when `done` settles: an aborted command's
      // channel stays open until the kill lands.
      ch.once('close', () => {
        c.active.delete(supervised);
        release();
      });
      return process;
    } catch (err) {
      release();
      throw err;
    }
  }

  function openChannel(c: Connection, command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        const why = c.lost ? `lost connection: ${c.lost}` : err.message;
        reject(new RemoteError(`cannot start a command on ${where(name, cfg)}: ${why}`, { cause: err }));
      };
      try {
        c.client.exec(command, (err, ch) => (err ? fail(err) : resolve(ch)));
      } catch (err) {
        fail(err as Error); // "Not connected": the socket died before its 'close' event
      }
    });
  }

  return {
    name,
    exec,
    run: (command, opts) => runCommand(exec, command, opts),
    presentedKey: () => (hostKey ? { fingerprint: fingerprint(hostKey), type: keyType(hostKey) } : undefined),
    async close() {
      opening?.abort(new RemoteError(`connection to ${where(name, cfg)} closed by bo`));
      await connecting?.catch(() => {});
      const c = conn;
      conn = undefined;
      if (!c || c.lost) return;
      const err = new RemoteError(`connection to ${where(name, cfg)} closed while a command was running`);
      for (const p of c.active) p.fail(err);
      // Let the kills go out before hanging up: a silent remote command would outlive the session.
      // (The timer is cleared: a pending one kept every bo that used SSH alive 2 s after its work.)
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([c.killer.settled(), new Promise((resolve) => (wait = setTimeout(resolve, 2000)))]);
      clearTimeout(wait);
      c.lost = 'closed by bo';
      const closed = new Promise<void>((resolve) => c.client.once('close', () => resolve()));
      const force = setTimeout(() => c.client.destroy(), 2000);
      c.client.end();
      await closed;
      clearTimeout(force);
    },
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
