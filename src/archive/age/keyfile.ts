import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { UsageError } from '../../errors.ts';
import { type AgeIdentity, parseIdentities } from './keys.ts';

/** An identity file exactly as age-keygen writes it. */
export function formatIdentityFile(key: { identity: string; recipient: string }, created: Date): string {
  const stamp = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `# created: ${stamp}\n# public key: ${key.recipient}\n${key.identity}\n`;
}

/** Writes a new identity file with mode 0600; refuses to overwrite an existing file. */
export function writeIdentityFile(path: string, contents: string): void {
  try {
    writeFileSync(path, contents, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`refusing to overwrite existing file ${path}`);
    throw new UsageError(`cannot write identity file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads and parses an identity file (`-` reads standard input). `warn` is called when the file is
 * readable by group or others, since it holds secret keys.
 */
export function readIdentityFile(path: string, warn?: (message: string) => void): AgeIdentity[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
    if (path !== '-' && warn && (statSync(path).mode & 0o077) !== 0)
      warn(`identity file ${path} is readable by other users; chmod 600 it`);
  } catch (err) {
    throw new UsageError(`cannot read identity file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseIdentities(text);
  } catch (err) {
    throw new UsageError(`${path === '-' ? 'standard input' : path}: ${(err as Error).message}`);
  }
}
