import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * OpenSSH known_hosts parsing and host key fingerprints. Pure: callers read and write the file.
 * Supported: plain and hashed (`|1|salt|hash`) host patterns, comma lists, `*`/`?` wildcards,
 * `!negation`, `[host]:port` for ports other than 22, `@revoked`; `@cert-authority` lines are
 * ignored (bo does not accept host certificates).
 */

export interface KnownKey {
  /** Key type from the blob, e.g. ssh-ed25519. */
  type: string;
  blob: Buffer;
  revoked: boolean;
  /** 1-based line number, for messages. */
  line: number;
}

/** `SHA256:` + unpadded base64 of SHA-256 over the key blob: what `ssh-keygen -lf` prints. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len > 64 || 4 + len > blob.length) return 'unknown';
  return blob.toString('latin1', 4, 4 + len);
}

/** The name known_hosts uses for a host: `addr` on port 22, `[addr]:port` otherwise. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** One known_hosts line for a key: `name type base64`. */
export function knownHostsLine(address: string, port: number, blob: Buffer): string {
  return `${knownHostsName(address, port)} ${keyType(blob)} ${blob.toString('base64')}`;
}

/** The keys (and revocations) the file records for a host. */
export function lookupKnownHosts(text: string, address: string, port: number): KnownKey[] {
  const name = knownHostsName(address, port);
  const out: KnownKey[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]?.startsWith('#')) return;
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      if (fields[0] !== '@revoked') return; // @cert-authority and unknown markers
      revoked = true;
      fields.shift();
    }
    const [hosts, , b64] = fields;
    if (!hosts || !b64) return;
    // A revoked key is revoked for every host, whatever the pattern says.
    if (!revoked && !hostsMatch(hosts, name)) return;
    const blob = Buffer.from(b64, 'base64');
    if (blob.length === 0) return;
    out.push({ type: keyType(blob), blob, revoked, line: i + 1 });
  });
  return out;
}

/** Lines of the file that name this host (not markers): what `--replace` removes. */
export function removeHost(text: string, address: string, port: number): string {
  const name = knownHostsName(address, port);
  return text
    .split('\n')
    .filter((raw) => {
      const hosts = raw.trim().split(/\s+/)[0] ?? '';
      return hosts === '' || hosts.startsWith('#') || hosts.startsWith('@') || !hostsMatch(hosts, name);
    })
    .join('\n');
}

function hostsMatch(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) return hashedMatch(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (patternMatch(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function hashedMatch(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

function patternMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name.toLowerCase();
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}
