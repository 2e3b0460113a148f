/**
 * How config problems read. zod's default messages ("Invalid input: expected int, received
 * string") describe zod, not bo's YAML; this error map says what was expected and what was found.
 * load.ts passes it to every parse; a schema can name what it wants more precisely with
 * `expected('a list of paths')` or `unknownTag('storage type')`.
 */
import type { z } from 'zod';

type Issue = z.core.$ZodRawIssue;
type ErrorFn = (issue: Issue) => string | undefined;

/** The parse-wide error map (safeParse's `error` option). */
export const configErrorMap: ErrorFn = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return typeMessage(iss, typeNoun(iss));
    case 'invalid_value':
      return iss.values.length === 1
        ? `expected ${show(iss.values[0])}, got ${found(iss.input, false)}`
        : `expected one of ${orList(iss.values.map(String))}, got ${found(iss.input, false)}`;
    case 'invalid_union':
      return iss.note === 'No matching discriminator'
        ? tagMessage(iss, iss.discriminator ?? 'tag')
        : unionMessage(iss);
    case 'too_small':
      return sizeMessage('at least', iss.origin, iss.minimum, iss.inclusive);
    case 'too_big':
      return sizeMessage('at most', iss.origin, iss.maximum, iss.inclusive);
    case 'invalid_format':
      return iss.format === 'url' ? `not a URL: ${show(iss.input)}` : undefined;
    default:
      return undefined;
  }
};

/** A schema's own name for what it wants, e.g. `expected a list of paths, got a string`. */
export function expected(what: string): ErrorFn {
  return (iss) => (iss.code === 'invalid_type' ? typeMessage(iss, what) : undefined);
}

/** A discriminated union's name for its tag: `unknown storage type "sftp" (expected s3 or filesystem)`. */
export function unknownTag(what: string): ErrorFn {
  return (iss) =>
    iss.code === 'invalid_union' && iss.note === 'No matching discriminator'
      ? tagMessage(iss, what)
      : undefined;
}

function typeMessage(iss: Issue, what: string): string {
  if (iss.input === undefined) return 'required';
  return `expected ${what}, got ${found(iss.input, /^an? (list|map)/.test(what))}`;
}

function typeNoun(iss: Issue & { code: 'invalid_type' }): string {
  const integer = iss.expected === 'int' || (iss.inst?._zod.def as { format?: string })?.format === 'safeint';
  if (integer) return 'an integer';
  return NOUNS[iss.expected] ?? `a ${iss.expected}`;
}

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map',
  record: 'a map',
};

/** What the document holds instead: the value itself for scalars, its kind when a list or map was wanted. */
function found(input: unknown, wantedContainer: boolean): string {
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  if (wantedContainer && typeof input === 'string') return 'a string';
  if (wantedContainer && typeof input === 'number') return 'a number';
  return show(input);
}

function show(v: unknown): string {
  const s =
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…"` : s;
}

function tagMessage(iss: Issue & { code: 'invalid_union' }, what: string): string {
  const options = orList(((iss.options ?? []) as unknown[]).map(String));
  const tag =
    iss.discriminator === undefined ? undefined : (iss.input as Record<string, unknown>)?.[iss.discriminator];
  return tag === undefined ? `required (${options})` : `unknown ${what} ${show(tag)} (expected ${options})`;
}

/** Every alternative wanted another type (a string or a list…): name them; otherwise zod's message. */
function unionMessage(iss: Issue & { code: 'invalid_union' }): string | undefined {
  const wanted = iss.errors.map((branch) => {
    const only = branch.length === 1 ? branch[0] : undefined;
    return only?.code === 'invalid_type' && only.path.length === 0 ? only.expected : undefined;
  });
  // One alternative took the value's type but failed inside: its problem is the one to show.
  const deep = iss.errors.filter((_, i) => wanted[i] === undefined);
  if (deep.length === 1 && deep[0]!.length > 0) {
    const first = deep[0]![0]!;
    return `${first.path.length ? `${first.path.join('.')}: ` : ''}${first.message}`;
  }
  if (wanted.length === 0 || wanted.some((w) => w === undefined)) return undefined;
  const nouns = [...new Set(wanted.map((w) => (w === 'int' ? 'an integer' : (NOUNS[w!] ?? `a ${w}`))))];
  return `expected ${orList(nouns)}, got ${found(iss.input, false)}`;
}

function sizeMessage(
  bound: string,
  origin: string,
  limit: number | bigint,
  inclusive = true,
): string | undefined {
  const n = Number(limit);
  if (origin === 'number' || origin === 'int') {
    return inclusive ? `must be ${bound} ${n}` : `must be ${bound === 'at least' ? 'above' : 'below'} ${n}`;
  }
  if (origin === 'string')
    return n === 1 && bound === 'at least' ? 'must not be empty' : `must be ${bound} ${n} characters`;
  if (origin === 'array')
    return n === 1 && bound === 'at least' ? 'must not be empty' : `must have ${bound} ${n} entries`;
  return undefined;
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
