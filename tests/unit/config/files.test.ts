import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { defaultSecretSources } from '../../../src/config/secret.ts';
import { ConfigError } from '../../../src/errors.ts';
import { problemsOf } from './problems.ts';

const hosts = (body: string, top = '') => `${top}\nhosts:\n${body}\n`;

describe('files the hosts need', () => {
  it('a private key that cannot be read is a config error with its path', () => {
    expect(
      problemsOf(
        hosts(`
  files1: { address: 10.0.0.5, privateKey: /nonexistent/key, hostKey: "SHA256:abc" }
  files2: { address: 10.0.0.6, privateKey: /etc/bo/id_ed25519, hostKey: "SHA256:abc" }`),
      ),
    ).toEqual(['hosts.files1.privateKey: cannot read private key /nonexistent/key (ENOENT)']);
  });

  it('a passphrase secret that cannot be read is one too', () => {
    expect(
      problemsOf(
        hosts(`
  files1: { address: 10.0.0.5, privateKey: /etc/bo/id_ed25519, hostKey: "SHA256:abc", passphrase: { file: /etc/bo/pass } }`),
      ),
    ).toEqual(['hosts.files1.passphrase: cannot read secret file /etc/bo/pass (ENOENT)']);
  });

  it('a known_hosts file that does not exist yet is fine (bo hosts trust creates it)', () => {
    expect(
      problemsOf(
        hosts(`
  files1: { address: 10.0.0.5, privateKey: /etc/bo/id_ed25519, knownHosts: /etc/bo/known_hosts }
  files2: { address: 10.0.0.6, privateKey: /etc/bo/id_ed25519 }`),
      ),
    ).toEqual([]);
  });

  it('an existing known_hosts that cannot be read is an error, unless hostKey pins the key', () => {
    const eacces = {
      env: {},
      readFile: (p: string) => {
        if (p === '/etc/bo/id_ed25519') return 'key';
        throw Object.assign(new Error('EACCES'), { code: p.endsWith('known_hosts') ? 'EACCES' : 'ENOENT' });
      },
    };
    expect(
      problemsOf(
        hosts(
          `
  files1: { address: 10.0.0.5, privateKey: /etc/bo/id_ed25519, knownHosts: /etc/bo/known_hosts }
  files2: { address: 10.0.0.6, privateKey: /etc/bo/id_ed25519 }
  files3: { address: 10.0.0.7, privateKey: /etc/bo/id_ed25519, knownHosts: /etc/bo/known_hosts, hostKey: "SHA256:abc" }`,
          'stateDir: /var/lib/bo',
        ),
        eacces,
      ),
    ).toEqual([
      'hosts.files1.knownHosts: cannot read known_hosts file /etc/bo/known_hosts (EACCES)',
      'hosts.files2.knownHosts: cannot read the default known_hosts file /var/lib/bo/known_hosts (EACCES)',
    ]);
  });

  describe('on the real filesystem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bo-cfg-files-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads relative paths next to the config file, and refuses a directory', () => {
      writeFileSync(join(dir, 'id_ed25519'), 'key');
      mkdirSync(join(dir, 'known_hosts'));
      const text = hosts(`
  ok: { address: 10.0.0.5, privateKey: id_ed25519, knownHosts: absent_known_hosts }
  dir: { address: 10.0.0.6, privateKey: id_ed25519, knownHosts: known_hosts }`);
      const file = join(dir, 'bo.yaml');
      try {
        parseConfig(text, file, defaultSecretSources);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).problems).toEqual([
          {
            path: 'hosts.dir.knownHosts',
            message: `cannot read known_hosts file ${join(dir, 'known_hosts')} (EISDIR)`,
          },
        ]);
      }
      const config = parseConfig(text.split('\n  dir:')[0]!, file, defaultSecretSources);
      expect(config.hosts.ok!.privateKey).toBe(join(dir, 'id_ed25519'));
    });
  });
});
