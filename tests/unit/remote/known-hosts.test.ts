import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  keyType,
  knownHostsLine,
  knownHostsName,
  lookupKnownHosts,
  removeHost,
} from '../../../src/remote/known-hosts.ts';

// Generated with ssh-keygen; fingerprints are what `ssh-keygen -lf` printed for them.
const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIERXnETqpSXwLsAVIaQQd24TxHxGi3Asfpl8Z6C4YawN';
const K1_FP = 'SHA256:1U7KauvBNGFBtORrXW2hApZK/BsCmgxGWMevinVLqCs';
const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIJFDHuJq9Xz2MaYk5PFG9mOvrsQa7tAT6vBotho+Dsqv';
const K2_FP = 'SHA256:IlZTX6CspiBdQjZ1UnhH1xT9/EjBvi8wqST0wU6G3d0';
const K3 =
  'AAAAB3NzaC1yc2EAAAADAQABAAAAgQC9+iNBwg5ROe2uFPFK85maDKnDY+m6NiDagen1igsHNgKYiCtVK96KIV9V00zsAmddu2xPzhm7IlvNGIEa1+T8xYKB4+BC22SSDFttfeRAlRL7TiQsiSrtxjPt1NWszXJuSAvw8ea1gvnatWjkVfJ1y/MGWEF+7r11oStaF8ugkw==';
const K3_FP = 'SHA256:h9jK+8O0Njjyq+ZQI0Vm53EjQJ9DmxX7cnBWMXAntsQ';
const blob = (b64: string) => Buffer.from(b64, 'base64');

describe('fingerprint / keyType', () => {
  it('matches ssh-keygen -lf', () => {
    expect(fingerprint(blob(K1))).toBe(K1_FP);
    expect(fingerprint(blob(K2))).toBe(K2_FP);
    expect(fingerprint(blob(K3))).toBe(K3_FP);
  });

  it('reads the key type from the blob', () => {
    expect(keyType(blob(K1))).toBe('ssh-ed25519');
    expect(keyType(blob(K3))).toBe('ssh-rsa');
    expect(keyType(Buffer.from([0, 0]))).toBe('unknown');
    expect(keyType(Buffer.from([0, 0, 1, 0, 65]))).toBe('unknown');
  });
});

describe('knownHostsName / knownHostsLine', () => {
  it('uses the bare address on port 22 and [addr]:port otherwise', () => {
    expect(knownHostsName('10.0.0.5', 22)).toBe('10.0.0.5');
    expect(knownHostsName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
    expect(knownHostsLine('files1', 22, blob(K1))).toBe(`files1 ssh-ed25519 ${K1}`);
  });
});

describe('lookupKnownHosts', () => {
  const lookup = (text: string, host: string, port = 22) =>
    lookupKnownHosts(text, host, port).map((k) => ({ fp: fingerprint(k.blob), revoked: k.revoked }));

  it('finds plain entries, with comments and blank lines around', () => {
    const text = `# a comment\n\nfiles1 ssh-ed25519 ${K1} root@files1\nfiles2 ssh-ed25519 ${K2}\n`;
    expect(lookup(text, 'files1')).toEqual([{ fp: K1_FP, revoked: false }]);
    expect(lookup(text, 'files3')).toEqual([]);
    expect(lookup('', 'files1')).toEqual([]);
  });

  it('matches [host]:port only for that port, and bare names only for port 22', () => {
    const text = `[10.0.0.5]:2222 ssh-ed25519 ${K1}\n10.0.0.5 ssh-ed25519 ${K2}\n`;
    expect(lookup(text, '10.0.0.5', 2222)).toEqual([{ fp: K1_FP, revoked: false }]);
    expect(lookup(text, '10.0.0.5', 22)).toEqual([{ fp: K2_FP, revoked: false }]);
    expect(lookup(text, '10.0.0.5', 2200)).toEqual([]);
  });

  it('matches comma lists, wildcards and negations', () => {
    const text = [
      `files1,10.0.0.5 ssh-ed25519 ${K1}`,
      `*.example.com,!bad.example.com ssh-ed25519 ${K2}`,
      `files? ssh-rsa ${K3}`,
    ].join('\n');
    expect(lookup(text, '10.0.0.5').map((k) => k.fp)).toEqual([K1_FP]);
    expect(lookup(text, 'FILES1').map((k) => k.fp)).toEqual([K1_FP, K3_FP]);
    expect(lookup(text, 'a.example.com').map((k) => k.fp)).toEqual([K2_FP]);
    expect(lookup(text, 'bad.example.com')).toEqual([]);
    expect(lookup(text, 'files10')).toEqual([]);
  });

  it('matches hashed entries written by ssh-keygen -H', () => {
    const text = [
      `|1|/3w0W3vsxViBeTrQ/mszK2mYFxE=|JMPbBCjIlHCWHe+1hlzle7rF4w0= ssh-ed25519 ${K1}`,
      `|1|A5NDAep5Bg43btPsU8C350DVfmg=|bequISqCUvgl5GsD7u3HteEC3J0= ssh-ed25519 ${K2}`,
    ].join('\n');
    expect(lookup(text, '10.0.0.5', 2222)).toEqual([{ fp: K1_FP, revoked: false }]);
    expect(lookup(text, 'files1.example.com')).toEqual([{ fp: K2_FP, revoked: false }]);
    expect(lookup(text, '10.0.0.5')).toEqual([]);
    expect(lookup('|1|garbage ssh-ed25519 AAAA', 'x')).toEqual([]);
  });

  it('reports @revoked keys for any host and ignores @cert-authority lines', () => {
    const text = [`@revoked * ssh-ed25519 ${K1}`, `@cert-authority *.example.com ssh-ed25519 ${K2}`].join(
      '\n',
    );
    expect(lookup(text, 'files1')).toEqual([{ fp: K1_FP, revoked: true }]);
    expect(lookup(text, 'a.example.com')).toEqual([{ fp: K1_FP, revoked: true }]);
  });

  it('skips malformed lines', () => {
    expect(lookup('files1\nfiles1 ssh-ed25519\nfiles1 ssh-ed25519 !!!!\n', 'files1')).toEqual([]);
  });
});

describe('removeHost', () => {
  it('drops every line naming the host and keeps the rest', () => {
    const text = [
      '# keep me',
      `files1 ssh-ed25519 ${K1}`,
      `files2 ssh-ed25519 ${K2}`,
      `|1|/3w0W3vsxViBeTrQ/mszK2mYFxE=|JMPbBCjIlHCWHe+1hlzle7rF4w0= ssh-ed25519 ${K1}`,
      `@revoked files1 ssh-rsa ${K3}`,
      '',
    ].join('\n');
    expect(removeHost(text, 'files1', 22)).toBe(
      [
        '# keep me',
        `files2 ssh-ed25519 ${K2}`,
        `|1|/3w0W3vsxViBeTrQ/mszK2mYFxE=|JMPbBCjIlHCWHe+1hlzle7rF4w0= ssh-ed25519 ${K1}`,
        `@revoked files1 ssh-rsa ${K3}`,
        '',
      ].join('\n'),
    );
    expect(removeHost(text, '10.0.0.5', 2222)).not.toContain('|1|/3w0');
  });
});
