import { describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Host } from '../../../src/config/schema.ts';
import { HostKeyError } from '../../../src/errors.ts';
import {
  checkHostKey,
  type HostTrust,
  normalizeFingerprint,
  preferredHostKeyAlgorithms,
} from '../../../src/remote/host-key.ts';
import type { KnownKey } from '../../../src/remote/known-hosts.ts';

const K1 = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIERXnETqpSXwLsAVIaQQd24TxHxGi3Asfpl8Z6C4YawN', 'base64');
const K1_FP = 'SHA256:1U7KauvBNGFBtORrXW2hApZK/BsCmgxGWMevinVLqCs';
const K2 = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIJFDHuJq9Xz2MaYk5PFG9mOvrsQa7tAT6vBotho+Dsqv', 'base64');
const K2_FP = 'SHA256:IlZTX6CspiBdQjZ1UnhH1xT9/EjBvi8wqST0wU6G3d0';
const cfg = parseResolved(Host, { address: '10.0.0.5', privateKey: '/etc/bo/id_ed25519' });

const known = (...keys: Array<[Buffer, boolean?]>): HostTrust => ({
  kind: 'known-hosts',
  file: '/var/lib/bo/known_hosts',
  keys: keys.map(
    ([blob, revoked], i): KnownKey => ({ blob, type: 'ssh-ed25519', revoked: revoked ?? false, line: i + 1 }),
  ),
});

describe('checkHostKey', () => {
  it('accepts a pinned fingerprint, one of several', () => {
    expect(checkHostKey('files1', cfg, { kind: 'pins', pins: [K1_FP] }, K1)).toBeUndefined();
    expect(checkHostKey('files1', cfg, { kind: 'pins', pins: [K2_FP, K1_FP] }, K1)).toBeUndefined();
  });

  it('refuses a key that differs from the pin as a possible man-in-the-middle', () => {
    const err = checkHostKey('files1', cfg, { kind: 'pins', pins: [K2_FP] }, K1);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err?.message).toContain('HOST KEY MISMATCH for files1 (10.0.0.5:22)');
    expect(err?.message).toContain('man-in-the-middle');
    expect(err?.message).toContain(`presented ssh-ed25519 ${K1_FP}, expected ${K2_FP}`);
    expect(err?.fingerprint).toBe(K1_FP);
  });

  it('accepts a key recorded in known_hosts', () => {
    expect(checkHostKey('files1', cfg, known([K2], [K1]), K1)).toBeUndefined();
  });

  it('refuses an unknown key, naming its fingerprint and how to trust it', () => {
    const err = checkHostKey('files1', cfg, known(), K1);
    expect(err?.message).toBe(
      `host key of files1 (10.0.0.5:22) is not trusted: it presented ssh-ed25519 ${K1_FP}`,
    );
    expect(err?.hint).toBe('check the fingerprint out of band, then run `bo hosts trust files1`');
  });

  it('refuses a changed key recorded in known_hosts', () => {
    const err = checkHostKey('files1', cfg, known([K2]), K1);
    expect(err?.message).toContain('HOST KEY MISMATCH');
    expect(err?.message).toContain(`expected ${K2_FP} (/var/lib/bo/known_hosts)`);
    expect(err?.hint).toContain('bo hosts trust files1 --replace');
  });

  it('refuses a revoked key even when it is also recorded as good', () => {
    const err = checkHostKey('files1', cfg, known([K1], [K1, true]), K1);
    expect(err?.message).toContain('REVOKED');
    // A revocation alone does not make the host "known".
    expect(checkHostKey('files1', cfg, known([K2, true]), K1)?.message).toContain('not trusted');
  });
});

describe('normalizeFingerprint', () => {
  it('accepts fingerprints with or without prefix and padding', () => {
    expect(normalizeFingerprint(' SHA256:abc= ')).toBe('SHA256:abc');
    expect(normalizeFingerprint('abc')).toBe('SHA256:abc');
  });
});

describe('preferredHostKeyAlgorithms', () => {
  it('asks for the recorded key types first', () => {
    const trust: HostTrust = {
      kind: 'known-hosts',
      file: 'x',
      keys: [
        { blob: K1, type: 'ssh-rsa', revoked: false, line: 1 },
        { blob: K2, type: 'ssh-ed25519', revoked: false, line: 2 },
        { blob: K2, type: 'ecdsa-sha2-nistp256', revoked: true, line: 3 },
      ],
    };
    expect(preferredHostKeyAlgorithms(trust)).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
    ]);
    expect(preferredHostKeyAlgorithms({ kind: 'pins', pins: [] })).toEqual([]);
  });
});
