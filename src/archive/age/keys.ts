import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { UsageError } from '../../errors.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';

/** A public key files are encrypted to: `age1…` (X25519). */
export interface AgeRecipient {
  readonly type: 'X25519';
  /** The canonical `age1…` string. */
  readonly text: string;
  /** Raw 32-byte Curve25519 public key. */
  readonly publicKey: Buffer;
  readonly key: KeyObject;
}

/** A secret key that decrypts files: `AGE-SECRET-KEY-1…` (X25519). Never log it. */
export interface AgeIdentity {
  readonly type: 'X25519';
  /** The matching `age1…` recipient. */
  readonly recipient: string;
  /** Raw 32-byte public key, part of the X25519 stanza's HKDF salt. */
  readonly publicKey: Buffer;
  readonly key: KeyObject;
}

const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'AGE-SECRET-KEY-';
// DER prefixes that wrap a raw X25519 key as PKCS#8 / SPKI, so node:crypto can import it.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** Imports a raw 32-byte X25519 public key. */
export function x25519PublicKey(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The raw 32 bytes of an X25519 key (public, or the public half of a private key). */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url');
}

function unsupported(s: string): string | undefined {
  if (s.startsWith('ssh-')) return 'SSH keys are not supported as age recipients; use an age1… X25519 key';
  if (/^age1pq1/i.test(s) || /^AGE-SECRET-KEY-PQ-1/i.test(s))
    return 'post-quantum (ML-KEM hybrid) age keys are not supported; use an X25519 key (age-keygen without -pq)';
  // The bech32 separator is the last "1", so age1<plugin>1… has a prefix longer than "age".
  if (/^age1[^1]*1/.test(s)) return 'age plugin recipients are not supported; use an age1… X25519 key';
  if (/^AGE-PLUGIN-/i.test(s)) return 'age plugin identities are not supported; use an X25519 identity';
  return undefined;
}

/** Parses an `age1…` recipient. Throws UsageError on a bad format or checksum. */
export function parseRecipient(s: string): AgeRecipient {
  const text = s.trim();
  const why = unsupported(text);
  if (why) throw new UsageError(`invalid age recipient "${text}": ${why}`);
  let decoded: { hrp: string; data: Buffer };
  try {
    decoded = bech32Decode(text);
  } catch (err) {
    throw new UsageError(`invalid age recipient "${text}": ${(err as Error).message}`, {
      hint: 'an age recipient looks like age1… (62 characters); age-keygen -y KEYFILE prints it',
    });
  }
  if (decoded.hrp !== RECIPIENT_HRP || decoded.data.length !== 32)
    throw new UsageError(`invalid age recipient "${text}": not an age1… X25519 public key`);
  return { type: 'X25519', text, publicKey: decoded.data, key: x25519PublicKey(decoded.data) };
}

/** Parses one `AGE-SECRET-KEY-1…` line. The message never contains the secret. */
export function parseIdentity(s: string): AgeIdentity {
  const text = s.trim();
  const why = unsupported(text);
  if (why) throw new UsageError(`invalid age identity: ${why}`);
  let decoded: { hrp: string; data: Buffer };
  try {
    decoded = bech32Decode(text);
  } catch (err) {
    throw new UsageError(`invalid age identity: ${(err as Error).message}`);
  }
  if (decoded.hrp !== IDENTITY_HRP || decoded.data.length !== 32)
    throw new UsageError('invalid age identity: not an AGE-SECRET-KEY-1… X25519 secret key');
  return identityFromSecret(decoded.data);
}

function identityFromSecret(secret: Buffer): AgeIdentity {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(key);
  return { type: 'X25519', recipient: bech32Encode(RECIPIENT_HRP, publicKey), publicKey, key };
}

/**
 * Parses an identity file as age-keygen writes it: `#` comments, blank lines and one
 * AGE-SECRET-KEY-1… per line. Throws UsageError naming the line (never its content), or when the
 * text holds no identity at all.
 */
export function parseIdentities(text: string): AgeIdentity[] {
  const ids: AgeIdentity[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      ids.push(parseIdentity(line));
    } catch (err) {
      throw new UsageError(`identity file line ${i + 1}: ${(err as Error).message}`);
    }
  }
  if (ids.length === 0)
    throw new UsageError('no age identity found (expected a line starting with AGE-SECRET-KEY-1)');
  return ids;
}

/** The `age1…` recipient that encrypts to this identity. */
export function identityToRecipient(id: AgeIdentity): string {
  return id.recipient;
}

/** A fresh X25519 key pair as strings: the secret identity and its public recipient. */
export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey } = generateKeyPairSync('x25519');
  const secret = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const recipient = bech32Encode(RECIPIENT_HRP, rawPublicKey(privateKey));
  return { identity: bech32Encode(IDENTITY_HRP, secret), recipient };
}
