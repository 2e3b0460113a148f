import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Host as HostSchema } from '../../../src/config/schema.ts';
import { SecretValue } from '../../../src/config/secret.ts';
import { BoError, HostKeyError, RemoteError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { createSshHost, MAX_CHANNELS, type SshHost } from '../../../src/remote/ssh.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { gone, hostContract } from './host-contract.ts';

let fx: SshdFixture | undefined;
let shared: SshHost | undefined;
let dir: string;
/** A valid key that is not in authorized_keys. */
let wrongKey: string;
const opened: SshHost[] = [];

beforeAll(async () => {
  fx = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'bo-ssh-test-'));
  wrongKey = join(dir, 'id_wrong');
  if (fx) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey], { stdio: 'ignore' });
  if (fx) shared = host();
});

afterAll(async () => {
  await Promise.all(opened.map((h) => h.close()));
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An SSH host for the fixture; `overrides` go through the config schema like a real config. */
function host(overrides: Record<string, unknown> = {}, extra: { passphrase?: SecretValue } = {}): SshHost {
  const cfg = { ...parseResolved(HostSchema, { ...fx!.hostConfig(), ...overrides }), ...extra };
  const h = createSshHost('files1', cfg, { log: silentLogger() });
  opened.push(h);
  return h;
}

function knownHosts(text: string): string {
  const file = join(dir, `known_hosts-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return file;
}

async function refusal(h: SshHost): Promise<Error> {
  const err = await h.run('true').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

hostContract('SshHost', () => shared);

describe('SshHost', () => {
  beforeEach((ctx) => {
    if (!fx) ctx.skip();
  });

  describe('host keys', () => {
    it('refuses an unknown host key, naming its fingerprint, before authenticating', async () => {
      // A wrong client key too: the host key check must come first.
      const err = await refusal(
        host({ hostKey: undefined, knownHosts: join(dir, 'missing'), privateKey: wrongKey }),
      );
      expect(err).toBeInstanceOf(HostKeyError);
      expect(err.message).toBe(
        `host key of files1 (127.0.0.1:${fx!.port}) is not trusted: it presented ${fx!.hostKeyType} ${fx!.hostKeyFingerprint}`,
      );
      expect((err as HostKeyError).hint).toBe(
        'check the fingerprint out of band, then run `bo hosts trust files1`',
      );
      expect((err as HostKeyError).fingerprint).toBe(fx!.hostKeyFingerprint);
    });

    it('refuses a key that differs from the pinned hostKey', async () => {
      const other = 'SHA256:IlZTX6CspiBdQjZ1UnhH1xT9/EjBvi8wqST0wU6G3d0';
      const err = await refusal(host({ hostKey: other }));
      expect(err).toBeInstanceOf(HostKeyError);
      expect(err.message).toContain('HOST KEY MISMATCH');
      expect(err.message).toContain('man-in-the-middle');
      expect(err.message).toContain(
        `presented ${fx!.hostKeyType} ${fx!.hostKeyFingerprint}, expected ${other}`,
      );
    });

    it('accepts any of several pinned fingerprints', async () => {
      const h = host({
        hostKey: ['SHA256:IlZTX6CspiBdQjZ1UnhH1xT9/EjBvi8wqST0wU6G3d0', fx!.hostKeyFingerprint],
      });
      expect((await h.run('echo ok')).stdout).toBe('ok\n');
      expect(h.presentedKey()).toEqual({ fingerprint: fx!.hostKeyFingerprint, type: fx!.hostKeyType });
    });

    it('accepts a plain [127.0.0.1]:port known_hosts entry in a comma list', async () => {
      const line = fx!.hostKeyLine.replace(/^\S+/, (h) => `otherhost,${h}`);
      const h = host({ hostKey: undefined, knownHosts: knownHosts(`# comment\n${line}\n`) });
      expect((await h.run('echo ok')).stdout).toBe('ok\n');
    });

    it('accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
      const file = knownHosts(`${fx!.hostKeyLine}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
      expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
      const h = host({ hostKey: undefined, knownHosts: file });
      expect((await h.run('echo ok')).stdout).toBe('ok\n');
    });

    it('does not match an entry for the same address on port 22', async () => {
      const line = fx!.hostKeyLine.replace(/^\S+/, '127.0.0.1');
      const err = await refusal(host({ hostKey: undefined, knownHosts: knownHosts(`${line}\n`) }));
      expect(err.message).toContain('is not trusted');
    });

    it('refuses a changed key recorded in known_hosts', async () => {
      const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJFDHuJq9Xz2MaYk5PFG9mOvrsQa7tAT6vBotho+Dsqv';
      const err = await refusal(
        host({ hostKey: undefined, knownHosts: knownHosts(`[127.0.0.1]:${fx!.port} ${other}\n`) }),
      );
      expect(err).toBeInstanceOf(HostKeyError);
      expect(err.message).toContain('HOST KEY MISMATCH');
      expect((err as HostKeyError).hint).toContain('bo hosts trust files1 --replace');
    });

    it('refuses a @revoked key and ignores @cert-authority lines', async () => {
      const key = fx!.hostKeyLine.split(' ').slice(1).join(' ');
      const revoked = await refusal(
        host({ hostKey: undefined, knownHosts: knownHosts(`${fx!.hostKeyLine}\n@revoked * ${key}\n`) }),
      );
      expect(revoked.message).toContain('REVOKED');
      const ca = await refusal(
        host({ hostKey: undefined, knownHosts: knownHosts(`@cert-authority * ${key}\n`) }),
      );
      expect(ca.message).toContain('is not trusted');
    });
  });

  describe('connection errors', () => {
    it('reports a rejected client key as an authentication failure', async () => {
      const err = await refusal(host({ privateKey: wrongKey }));
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toBe(
        `SSH authentication failed for ${fx!.user}@127.0.0.1:${fx!.port} with key ${wrongKey}`,
      );
    });

    it('uses a passphrase-protected key with its passphrase, and says when it is wrong', async () => {
      const key = join(dir, 'id_pass');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'sekrit', '-f', key], { stdio: 'ignore' });
      appendFileSync(join(fx!.dir, 'authorized_keys'), readFileSync(`${key}.pub`));
      const ok = host({ privateKey: key }, { passphrase: new SecretValue('sekrit', 'test') });
      expect((await ok.run('echo ok')).stdout).toBe('ok\n');
      const err = await refusal(host({ privateKey: key }, { passphrase: new SecretValue('wrong', 'test') }));
      expect(err).toBeInstanceOf(BoError);
      expect(err.message).toContain(`cannot use private key ${key} for files1`);
      expect(err.message).not.toContain('wrong');
    });

    it('reports a missing private key file', async () => {
      const err = await refusal(host({ privateKey: join(dir, 'absent') }));
      expect(err.message).toBe(`cannot read private key ${join(dir, 'absent')} for host files1: ENOENT`);
    });

    it('reports a closed port as unreachable, quickly', async () => {
      const port = await closedPort();
      const err = await refusal(host({ port }));
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toBe(`cannot reach files1 (127.0.0.1:${port}): connection refused`);
    });

    it('reports a server that never answers as a timeout', async () => {
      const silent = await silentServer();
      try {
        const port = (silent.address() as { port: number }).port;
        const err = await refusal(host({ port, connectTimeout: '1s' }));
        expect(err.message).toBe(`cannot reach files1 (127.0.0.1:${port}): timed out after 1s`);
      } finally {
        silent.close();
      }
    });

    it('fails the running command when the connection drops, then reconnects', async () => {
      const h = host();
      expect((await h.run('echo first')).stdout).toBe('first\n');
      // $PPID of the login shell is this connection's sshd process.
      const err = await h.run('kill -9 $PPID; sleep 2').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as Error).message).toContain('lost connection to files1');
      expect((await h.run('echo again')).stdout).toBe('again\n');
    });

    it('defaults the idle timeout to commandTimeout', async () => {
      const err = await host({ commandTimeout: '1s' })
        .run('sleep 30')
        .catch((e: unknown) => e);
      expect((err as Error).message).toBe('command on files1 produced no output for 1s');
    });

    it('queues commands beyond MAX_CHANNELS on one connection', async () => {
      const h = host();
      const d = join(dir, `running-${Math.random().toString(36).slice(2)}`);
      // Each command counts the commands running alongside it (itself included).
      const results = await Promise.all(
        Array.from({ length: MAX_CHANNELS + 4 }, (_, i) =>
          h.run(`mkdir -p ${d}; touch ${d}/${i}; sleep 1; n=$(ls ${d} | wc -l); rm ${d}/${i}; echo $n`),
        ),
      );
      const counts = results.map((r) => Number(r.stdout.trim()));
      expect(Math.max(...counts)).toBeLessThanOrEqual(MAX_CHANNELS);
      expect(results.every((r) => r.code === 0)).toBe(true);
    });

    it('close() kills commands still running and fails their done', async () => {
      const h = host();
      const secs = `1000.${Math.floor(Math.random() * 900000 + 100000)}`;
      const proc = await h.exec(`sleep ${secs}`);
      await h.close();
      await expect(proc.done).rejects.toThrow(/closed while a command was running/);
      expect(await gone(shared!, `[s]leep ${secs}`)).toBe(true);
    });

    it('close() ends the connection and the next exec reconnects', async () => {
      const h = host();
      expect((await h.run('echo a')).stdout).toBe('a\n');
      await h.close();
      await h.close();
      expect((await h.run('echo b')).stdout).toBe('b\n');
    });
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Accepts TCP connections and never says anything. */
function silentServer(): Promise<Server> {
  return new Promise((resolve) => {
    const srv = createServer((sock) => sock.on('error', () => {}));
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}
