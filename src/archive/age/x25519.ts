import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import type { Stanza } from './header.ts';
import { b64decode, b64encode, headerError } from './header.ts';
import { type AgeIdentity, type AgeRecipient, rawPublicKey, x25519PublicKey } from './keys.ts';
import { aeadOpen, aeadSeal, hkdf } from './primitives.ts';

const LABEL = 'age-encryption.org/v1/X25519';
const ZERO_NONCE = Buffer.alloc(12);
export const FILE_KEY_SIZE = 16;

/** Wraps the file key to one recipient: `-> X25519 <ephemeral share>` + sealed file key. */
export function wrapX25519(recipient: AgeRecipient, fileKey: Buffer): Stanza {
  const { privateKey } = generateKeyPairSync('x25519');
  const share = rawPublicKey(privateKey);
  const shared = diffieHellman({ privateKey, publicKey: recipient.key });
  const key = hkdf(shared, Buffer.concat([share, recipient.publicKey]), LABEL);
  return { type: 'X25519', args: [b64encode(share)], body: aeadSeal(key, ZERO_NONCE, fileKey) };
}

/**
 * Tries to unwrap an X25519 stanza. `undefined` means "not for this identity" (another type, or
 * the key does not open it); a malformed X25519 stanza throws IntegrityError, as in the reference
 * implementation.
 */
export function unwrapX25519(identity: AgeIdentity, stanza: Stanza): Buffer | undefined {
  if (stanza.type !== 'X25519') return undefined;
  if (stanza.args.length !== 1) throw headerError('X25519 stanza must have exactly one argument');
  const share = b64decode(stanza.args[0]!);
  if (share?.length !== 32) throw headerError('X25519 stanza has an invalid ephemeral share');
  if (stanza.body.length !== FILE_KEY_SIZE + 16) throw headerError('X25519 stanza body has the wrong length');
  let shared: Buffer;
  try {
    // OpenSSL refuses low-order points (all-zero shared secret), as age requires.
    shared = diffieHellman({ privateKey: identity.key, publicKey: x25519PublicKey(share) });
  } catch {
    throw headerError('X25519 stanza has a low-order ephemeral share');
  }
  const key = hkdf(shared, Buffer.concat([share, identity.publicKey]), LABEL);
  return aeadOpen(key, ZERO_NONCE, stanza.body);
}
