import { readFileSync } from 'node:fs';
import { Client, type ConnectConfig } from 'ssh2';
import type { Host as HostConfig } from '../config/schema.ts';
import { BoError, CancelledError, RemoteError } from '../errors.ts';
import { seconds, where } from './describe.ts';
import { checkHostKey, loadHostTrust, preferredHostKeyAlgorithms } from './host-key.ts';

/** aes128-gcm is the fastest cipher ssh2 offers on CPUs with AES-NI; the defaults stay as fallbacks. */
const FAST_CIPHER = 'aes128-gcm@openssh.com';

export interface Connected {
  client: Client;
  /** The host key blob the server presented (already verified). */
  hostKey: Buffer;
}

/**
 * Opens an authenticated SSH connection. The host key is checked in `hostVerifier`, i.e. before
 * authentication: an untrusted server never sees our key signature. Never uses an agent.
 */
export function connectSsh(name: string, cfg: HostConfig, signal?: AbortSignal): Promise<Connected> {
  const trust = loadHostTrust(cfg);
  const privateKey = readPrivateKey(name, cfg.privateKey);
  return handshake(name, cfg, signal, preferredHostKeyAlgorithms(trust), privateKey, (blob) =>
    checkHostKey(name, cfg, trust, blob),
  );
}

/** Connects only far enough to see the host key, then hangs up: no authentication, no command. */
export async function fetchHostKey(
  name: string,
  cfg: HostConfig,
  preferAlgorithms: string[],
  signal?: AbortSignal,
): Promise<Buffer> {
  let seen: Buffer | undefined;
  const stop = new BoError('host key captured');
  try {
    await handshake(name, cfg, signal, preferAlgorithms, undefined, (blob) => {
      seen = blob;
      return stop;
    });
  } catch (err) {
    if (err !== stop) throw err;
  }
  if (!seen) throw new RemoteError(`${name} (${cfg.address}:${cfg.port}) presented no host key`);
  return seen;
}

function handshake(
  name: string,
  cfg: HostConfig,
  signal: AbortSignal | undefined,
  preferAlgorithms: string[],
  privateKey: Buffer | undefined,
  verify: (blob: Buffer) => Error | undefined,
): Promise<Connected> {
  if (signal?.aborted) return Promise.reject(new CancelledError());
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKey: Buffer | undefined;
    let refusal: Error | undefined;
    let settled = false;
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.end();
        reject(err);
      } else resolve({ client, hostKey: hostKey! });
    };
    const onAbort = () => {
      settle(new CancelledError());
      client.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('ready', () => {
      // Without TCP_NODELAY, Nagle holds back ssh2's small window-adjust packets and a 1 GiB
      // stream crawls at ~100 MB/s on loopback instead of ~400 (bench/ssh.ts).
      client.setNoDelay(true);
      settle(undefined);
    });
    client.on('error', (err) => settle(refusal ?? connectError(name, cfg, err)));
    client.on('close', () => settle(refusal ?? new RemoteError(`${where(name, cfg)} closed the connection`)));
    const options: ConnectConfig = {
      host: cfg.address,
      port: cfg.port,
      username: cfg.user,
      readyTimeout: cfg.connectTimeout,
      keepaliveInterval: cfg.keepaliveInterval,
      keepaliveCountMax: 3,
      agentForward: false,
      tryKeyboard: false,
      algorithms: {
        cipher: reorder([FAST_CIPHER]),
        ...(preferAlgorithms.length > 0 ? { serverHostKey: reorder(preferAlgorithms) } : {}),
      } as ConnectConfig['algorithms'],
      hostVerifier: (blob: Buffer) => {
        hostKey = blob;
        refusal = verify(blob);
        return refusal === undefined;
      },
    };
    if (privateKey) {
      options.privateKey = privateKey;
      const passphrase = cfg.passphrase?.reveal();
      if (passphrase !== undefined) options.passphrase = passphrase;
    }
    try {
      client.connect(options);
    } catch (err) {
      // ssh2 parses the key synchronously; its message never contains the passphrase.
      const msg = (err as Error).message;
      settle(
        new BoError(
          /privateKey/i.test(msg)
            ? `cannot use private key ${cfg.privateKey} for ${name}: ${msg}`
            : `cannot connect to ${where(name, cfg)}: ${msg}`,
        ),
      );
    }
  });
}

/** Moves `first` to the front of ssh2's default list, keeping every other default after it. */
function reorder(first: string[]): { remove: string[]; prepend: string[] } {
  return { remove: first, prepend: first };
}

function readPrivateKey(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new BoError(`cannot read private key ${path} for host ${name}: ${code}`);
  }
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'address not found',
  EAI_AGAIN: 'address lookup failed (temporary)',
};

/** Maps ssh2 connection errors to messages naming the host and what to check. */
export function connectError(name: string, cfg: HostConfig, err: Error & { level?: string; code?: string }) {
  if (err.level === 'client-authentication') {
    return new RemoteError(
      `SSH authentication failed for ${cfg.user}@${cfg.address}:${cfg.port} with key ${cfg.privateKey}`,
      { hint: `is the public key of ${cfg.privateKey} in ~${cfg.user}/.ssh/authorized_keys on ${name}?` },
    );
  }
  if (err.level === 'client-timeout') {
    return new RemoteError(
      `cannot reach ${where(name, cfg)}: timed out after ${seconds(cfg.connectTimeout)}`,
    );
  }
  if (err.level === 'client-socket' || err.level === 'client-dns') {
    const reason = (err.code && SOCKET_ERRORS[err.code]) ?? err.message;
    return new RemoteError(`cannot reach ${where(name, cfg)}: ${reason}`, { cause: err });
  }
  return new RemoteError(`SSH handshake with ${where(name, cfg)} failed: ${err.message}`, { cause: err });
}
