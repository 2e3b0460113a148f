import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { HostKeyError, UsageError } from '../../../src/errors.ts';
import { checkHosts, trustHost } from '../../../src/jobs/hosts.ts';
import { silentLogger } from '../../../src/log.ts';
import { createHost } from '../../../src/remote/registry.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';

const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJFDHuJq9Xz2MaYk5PFG9mOvrsQa7tAT6vBotho+Dsqv';
const log = silentLogger();
let fx: SshdFixture | undefined;
let root: string;
let deadPort: number;

beforeAll(async () => {
  fx = await startSshd();
  root = mkdtempSync(join(tmpdir(), 'bo-hosts-'));
  deadPort = await closedPort();
});

afterAll(async () => {
  await fx?.stop();
  rmSync(root, { recursive: true, force: true });
});

beforeEach((ctx) => {
  if (!fx) ctx.skip();
});

/** A config whose stateDir is fresh for each test; files1 trusts through known_hosts unless pinned. */
function config(files1: Record<string, unknown> = {}): Config {
  const { hostKey: _pin, ...cfg } = fx!.hostConfig();
  return parseResolved(Config, {
    stateDir: mkdtempSync(join(root, 'state-')),
    hosts: {
      files1: { ...cfg, ...files1 },
      dead: { ...cfg, port: deadPort, connectTimeout: '2s' },
    },
  });
}

describe('trustHost', () => {
  it('records the key in <stateDir>/known_hosts, after which the host connects', async () => {
    const cfg = config();
    const file = join(cfg.stateDir, 'sub', 'known_hosts');
    cfg.stateDir = join(cfg.stateDir, 'sub');
    const r = await trustHost('files1', { config: cfg, log });
    expect(r).toMatchObject({
      host: 'files1',
      fingerprint: fx!.hostKeyFingerprint,
      keyType: fx!.hostKeyType,
      recorded: true,
      alreadyTrusted: false,
      file,
      source: 'known_hosts',
    });
    expect(readFileSync(file, 'utf8')).toBe(`${fx!.hostKeyLine}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(statSync(cfg.stateDir).mode & 0o777).toBe(0o700);

    const host = createHost('files1', cfg, { log });
    try {
      expect((await host.run('echo trusted')).stdout).toBe('trusted\n');
    } finally {
      await host.close();
    }
    const again = await trustHost('files1', { config: cfg, log });
    expect(again).toMatchObject({ recorded: false, alreadyTrusted: true });
    expect(readFileSync(file, 'utf8')).toBe(`${fx!.hostKeyLine}\n`);
  });

  it('refuses to overwrite a different recorded key unless asked to replace it', async () => {
    const cfg = config();
    const file = join(cfg.stateDir, 'known_hosts');
    const otherHost = `files2 ${OTHER_KEY}`;
    writeFileSync(file, `${otherHost}\n[127.0.0.1]:${fx!.port} ${OTHER_KEY}`);
    const err = await trustHost('files1', { config: cfg, log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toContain('HOST KEY MISMATCH');

    const r = await trustHost('files1', { config: cfg, log, replace: true });
    expect(r).toMatchObject({ recorded: true, replaced: true });
    expect(readFileSync(file, 'utf8')).toBe(`${otherHost}\n${fx!.hostKeyLine}\n`);
  });

  it('with --fingerprint, records only the key that matches it', async () => {
    const cfg = config();
    const wrong = 'SHA256:IlZTX6CspiBdQjZ1UnhH1xT9/EjBvi8wqST0wU6G3d0';
    const err = await trustHost('files1', { config: cfg, log, fingerprint: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toContain(`not the expected ${wrong}`);
    expect(existsSync(join(cfg.stateDir, 'known_hosts'))).toBe(false);
    const r = await trustHost('files1', { config: cfg, log, fingerprint: fx!.hostKeyFingerprint });
    expect(r.recorded).toBe(true);
  });

  it('only compares when the config pins hostKey, and never writes', async () => {
    const pinned = config({ hostKey: fx!.hostKeyFingerprint });
    expect(await trustHost('files1', { config: pinned, log })).toMatchObject({
      recorded: false,
      alreadyTrusted: true,
      source: 'hostKey',
    });
    const wrong = config({ hostKey: 'SHA256:IlZTX6CspiBdQjZ1UnhH1xT9/EjBvi8wqST0wU6G3d0' });
    expect(await trustHost('files1', { config: wrong, log })).toMatchObject({
      recorded: false,
      alreadyTrusted: false,
    });
    expect(existsSync(join(wrong.stateDir, 'known_hosts'))).toBe(false);
  });

  it('rejects unknown hosts and the local host as usage errors', async () => {
    await expect(trustHost('nope', { config: config(), log })).rejects.toBeInstanceOf(UsageError);
    await expect(trustHost('local', { config: config(), log })).rejects.toBeInstanceOf(UsageError);
  });

  it('reports an unreachable host', async () => {
    await expect(trustHost('dead', { config: config(), log })).rejects.toThrow(/connection refused/);
  });
});

describe('checkHosts', () => {
  it('checks every host at once; a dead host fails alone', async () => {
    const cfg = config({ hostKey: fx!.hostKeyFingerprint });
    const results = await checkHosts(undefined, { config: cfg, log });
    expect(results.map((r) => r.host)).toEqual(['files1', 'dead']);
    const [good, dead] = results;
    expect(good).toMatchObject({ host: 'files1', ok: true, fingerprint: fx!.hostKeyFingerprint });
    expect(good!.tar).toMatch(/GNU tar/);
    expect(good!.zstd).toMatch(/zstd$/);
    expect(dead).toMatchObject({ host: 'dead', ok: false });
    expect(dead!.error).toBe(`cannot reach dead (127.0.0.1:${deadPort}): connection refused`);
  });

  it('reports an untrusted host key with its fingerprint and the hint', async () => {
    const [r] = await checkHosts(['files1'], { config: config(), log });
    expect(r).toMatchObject({ ok: false, fingerprint: fx!.hostKeyFingerprint });
    expect(r!.hint).toContain('bo hosts trust files1');
  });

  it('checks the local host by name and refuses unknown names up front', async () => {
    const [local] = await checkHosts(['local'], { config: config(), log });
    expect(local).toMatchObject({ host: 'local', ok: true });
    await expect(checkHosts(['files1', 'nope'], { config: config(), log })).rejects.toBeInstanceOf(
      UsageError,
    );
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
