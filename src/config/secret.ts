import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A resolved secret. It refuses to be printed: JSON, string conversion and util.inspect all
 * show `[redacted]`, so a secret that slips into a log line or an error message stays hidden.
 */
export class SecretValue {
  readonly #value: string;
  readonly source: string;
  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretValue(${this.source})`;
  }
}

/** How the config names a secret: an environment variable, a file, or a systemd credential. */
export type SecretSpec = { env: string } | { file: string } | { credential: string };

/**
 * A secret the config names but nobody has read yet: what the schema yields. load.ts reads each
 * one with the SecretSources it was given (resolve-secrets.ts), so parsing never touches the
 * environment or the disk. The name of a variable or file is not secret; its content is.
 */
export class SecretRef {
  readonly spec: SecretSpec;
  constructor(spec: SecretSpec) {
    this.spec = spec;
  }
}

export interface SecretSources {
  env: NodeJS.ProcessEnv;
  readFile: (path: string) => string;
}

export const defaultSecretSources: SecretSources = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
};

/** Reads a secret from the environment, a file, or a systemd credential. Throws a readable message. */
export function resolveSecret(ref: SecretSpec, src: SecretSources): SecretValue {
  if ('env' in ref) {
    const v = src.env[ref.env];
    if (v === undefined || v === '') throw new Error(`environment variable ${ref.env} is not set`);
    return new SecretValue(v, `env:${ref.env}`);
  }
  const path = 'file' in ref ? ref.file : join(credentialsDir(src.env, ref.credential), ref.credential);
  let text: string;
  try {
    text = src.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`cannot read secret file ${path} (${code})`);
  }
  // Files written by editors end with a newline that is not part of the secret.
  const v = text.replace(/\r?\n$/, '');
  if (v === '') throw new Error(`secret file ${path} is empty`);
  return new SecretValue(v, `file:${path}`);
}

function credentialsDir(env: NodeJS.ProcessEnv, name: string): string {
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) {
    throw new Error(
      `credential ${name}: $CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the systemd unit)`,
    );
  }
  return dir;
}
