import { readFileSync } from 'node:fs';
import type { Host as HostConfig } from '../config/schema.ts';
import { BoError, HostKeyError } from '../errors.ts';
import { fingerprint, type KnownKey, keyType, lookupKnownHosts } from './known-hosts.ts';

/** What bo trusts for one host: the config pins, or the keys its known_hosts file records. */
export type HostTrust =
  | { kind: 'pins'; pins: string[] }
  | { kind: 'known-hosts'; file: string; keys: KnownKey[] };

/** Reads the trust anchors for a host. `hostKey` pins win; a missing known_hosts means none known. */
export function loadHostTrust(cfg: HostConfig): HostTrust {
  if (cfg.hostKey !== undefined) {
    const pins = (Array.isArray(cfg.hostKey) ? cfg.hostKey : [cfg.hostKey]).map(normalizeFingerprint);
    return { kind: 'pins', pins };
  }
  const file = cfg.knownHosts;
  if (!file) return { kind: 'known-hosts', file: '(none)', keys: [] };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new BoError(`cannot read known_hosts file ${file}: ${code ?? err}`);
  }
  return { kind: 'known-hosts', file, keys: lookupKnownHosts(text, cfg.address, cfg.port) };
}

/** "SHA256:abc=" and "abc" both mean SHA256:abc. */
export function normalizeFingerprint(fp: string): string {
  const s = fp.trim().replace(/=+$/, '');
  return s.startsWith('SHA256:') ? s : `SHA256:${s}`;
}

/**
 * Decides whether a presented host key is acceptable. Returns the error to refuse the
 * connection with, or undefined to accept it.
 */
export function checkHostKey(
  name: string,
  cfg: HostConfig,
  trust: HostTrust,
  blob: Buffer,
): HostKeyError | undefined {
  const fp = fingerprint(blob);
  const where = `${name} (${cfg.address}:${cfg.port})`;
  const presented = `${keyType(blob)} ${fp}`;
  if (trust.kind === 'pins') {
    if (trust.pins.includes(fp)) return undefined;
    return mismatch(
      where,
      presented,
      fp,
      trust.pins,
      'hostKey in the config',
      `update hostKey of ${name} in the config`,
    );
  }
  const revoked = trust.keys.find((k) => k.revoked && k.blob.equals(blob));
  if (revoked) {
    return new HostKeyError(
      `host key of ${where} is REVOKED (${trust.file} line ${revoked.line}): it presented ${presented}`,
      fp,
    );
  }
  const known = trust.keys.filter((k) => !k.revoked);
  if (known.some((k) => k.blob.equals(blob))) return undefined;
  if (known.length === 0) {
    return new HostKeyError(
      `host key of ${where} is not trusted: it presented ${presented}`,
      fp,
      `check the fingerprint out of band, then run \`bo hosts trust ${name}\``,
    );
  }
  return mismatch(
    where,
    presented,
    fp,
    known.map((k) => fingerprint(k.blob)),
    trust.file,
    `verify the new fingerprint out of band, then run \`bo hosts trust ${name} --replace\``,
  );
}

function mismatch(
  where: string,
  presented: string,
  fp: string,
  expected: string[],
  source: string,
  fix: string,
): HostKeyError {
  return new HostKeyError(
    `HOST KEY MISMATCH for ${where}: possible man-in-the-middle attack (or the host was reinstalled): ` +
      `it presented ${presented}, expected ${expected.join(' or ')} (${source})`,
    fp,
    `do not connect until you know why the key changed; if the change is legitimate, ${fix}`,
  );
}

const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Host key algorithms to ask for first: the types already recorded in known_hosts, so a server
 * with several host keys presents the one we know (as OpenSSH's ssh does).
 */
export function preferredHostKeyAlgorithms(trust: HostTrust): string[] {
  if (trust.kind !== 'known-hosts') return [];
  const out: string[] = [];
  for (const k of trust.keys) {
    if (k.revoked) continue;
    for (const algo of ALGORITHMS_FOR_TYPE[k.type] ?? []) if (!out.includes(algo)) out.push(algo);
  }
  return out;
}
