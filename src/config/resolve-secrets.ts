import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import {
  defaultSecretSources,
  resolveSecret,
  SecretRef,
  type SecretSources,
  type SecretValue,
} from './secret.ts';

/**
 * A parsed config (or part of one) with each SecretRef read into the SecretValue it names:
 * the shape bo runs on. Types of sections holding secrets are declared as
 * `Resolved<z.infer<typeof X>>` next to their schema.
 */
export type Resolved<T> = T extends SecretRef
  ? SecretValue
  : T extends SecretValue
    ? T
    : T extends readonly (infer U)[]
      ? Resolved<U>[]
      : T extends object
        ? { [K in keyof T]: Resolved<T[K]> }
        : T;

/**
 * Reads every secret in `tree` from `src`. A secret that cannot be read is a problem at its path
 * (`storage.s3.accessKeyId: environment variable X is not set`) and stays a SecretRef; the
 * caller refuses the config then. `tree` may be a partly parsed document (a failed parse's
 * value), so unreadable secrets are listed beside the schema's problems in one pass.
 */
export function resolveSecrets<T>(
  tree: T,
  src: SecretSources,
): { value: Resolved<T>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (v instanceof SecretRef) {
      try {
        return resolveSecret(v.spec, src);
      } catch (err) {
        problems.push({ path, message: (err as Error).message });
        return v;
      }
    }
    const at = (k: string | number) => (path ? `${path}.${k}` : String(k));
    if (Array.isArray(v)) return v.map((x, i) => walk(x, at(i)));
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, at(k))]));
    return v;
  };
  return { value: walk(tree, '') as Resolved<T>, problems };
}

/**
 * `schema.parse(input)` with its secrets read, by default from the process's environment and
 * files: for configs built in code instead of read from a file (tests, benchmarks). A schema
 * problem throws zod's error; a secret that cannot be read, a ConfigError.
 */
export function parseResolved<S extends z.ZodType>(
  schema: S,
  input: unknown,
  src: SecretSources = defaultSecretSources,
): Resolved<z.output<S>> {
  const { value, problems } = resolveSecrets(schema.parse(input) as z.output<S>, src);
  if (problems.length > 0) throw new ConfigError('(built in code)', problems);
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
