/**
 * "Did you mean" for unknown keys. zod says only which keys an object did not expect; the keys
 * it does expect at that place come from the same JSON Schema that config/REFERENCE.md is
 * generated from, walked along the problem's path. Where the schema branches (job kinds,
 * storage and notifier types, check names), the document's own tags pick the branch, so a
 * prune job is never told about a verify job's keys.
 */
import { z } from 'zod';
import { Config } from './schema.ts';
import { closest } from './suggest.ts';

interface Node {
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  items?: Node;
  oneOf?: Node[];
  anyOf?: Node[];
  const?: unknown;
}

/**
 * Messages for unknown keys of `doc` (the document as the schema saw it, e.g. with a job's kind
 * filled in, or the raw document): `unknown key`, naming the nearest known key when one is close.
 */
export function unknownKeyMessages(doc: unknown): (path: readonly PropertyKey[], key: string) => string {
  const root = z.toJSONSchema(Config, { io: 'input', unrepresentable: 'any' }) as Node;
  return (path, key) => {
    // Short keys are close to too much: a 2-letter key may differ only in case.
    const near = closest(key, knownKeys(root, path, doc), Math.min(2, Math.ceil(key.length / 2) - 1));
    return near === undefined ? 'unknown key' : `unknown key (did you mean "${near}"?)`;
  };
}

/** Keys the schema knows for the map at `path` of `doc`. */
function knownKeys(root: Node, path: readonly PropertyKey[], doc: unknown): string[] {
  let nodes = [root];
  let value = doc;
  for (const seg of path) {
    nodes = nodes.flatMap((n) => branches(n, value)).flatMap((n) => child(n, seg));
    value = isObj(value) ? value[String(seg)] : undefined;
  }
  const keys = nodes.flatMap((n) => branches(n, value)).flatMap((n) => Object.keys(n.properties ?? {}));
  return [...new Set(keys)];
}

function child(n: Node, seg: PropertyKey): Node[] {
  if (typeof seg === 'number') return n.items ? [n.items] : [];
  const named = n.properties?.[String(seg)];
  if (named) return [named];
  return typeof n.additionalProperties === 'object' ? [n.additionalProperties] : [];
}

/** The alternatives of a union that fit `value`: those whose tags it carries; all when none does. */
function branches(n: Node, value: unknown): Node[] {
  const alts = n.oneOf ?? n.anyOf;
  if (!alts) return [n];
  const all = alts.flatMap((a) => branches(a, value));
  const tagged = all.filter((a) => {
    const tags = Object.entries(a.properties ?? {}).filter(([, p]) => p.const !== undefined);
    return tags.length > 0 && isObj(value) && tags.every(([k, p]) => value[k] === p.const);
  });
  return tagged.length > 0 ? tagged : all;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
