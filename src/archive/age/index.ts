/** age v1 (age-encryption.org/v1) with X25519 recipients, streaming, on node:crypto. */
export { createDecryptor, createDecryptStream } from './decrypt.ts';
export { createEncryptStream } from './encrypt.ts';
export { formatIdentityFile, readIdentityFile, writeIdentityFile } from './keyfile.ts';
export {
  type AgeIdentity,
  type AgeRecipient,
  generateIdentity,
  identityToRecipient,
  parseIdentities,
  parseIdentity,
  parseRecipient,
} from './keys.ts';
export { CHUNK_SIZE } from './stream.ts';
