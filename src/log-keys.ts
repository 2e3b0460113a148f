import { type Logger, pino } from 'pino';

/**
 * One key once per JSON log line. pino writes a logger's bindings (its own and every parent's,
 * pre-serialised) and then the line's fields, without comparing them: a run logger bound to
 * `kind: "health"` logging `{ kind: "change" }` wrote both, and JSON.parse keeps only the last.
 * These hooks keep the keys unique:
 * - the first binding of a key owns it: a child's binding or a line's field of the same name
 *   is dropped when equal, else renamed `<key>_`, so no value is lost and the outermost
 *   bindings, a run's runId, job, kind and host, stay what logs are filtered by;
 * - fields named like the record's own keys (level, time, msg) are renamed the same way.
 * Call sites should still name their fields apart (`changeKind`, not `kind`); this is the guard.
 */

const RECORD_KEYS = ['level', 'time'];
const chindingsSym = pino.symbols.chindingsSym as unknown as symbol;
const cache = new WeakMap<object, { chindings: string; keys: Map<string, string> }>();

type Internal = Record<symbol, string>;

/** Each bound key of `logger` with its serialised value. */
export function boundKeys(logger: Logger): Map<string, string> {
  const chindings = (logger as unknown as Internal)[chindingsSym] ?? '';
  const hit = cache.get(logger);
  if (hit?.chindings === chindings) return hit.keys;
  const keys = new Map<string, string>();
  for (const [k, v] of Object.entries(parseBindings(chindings))) keys.set(k, JSON.stringify(v));
  cache.set(logger, { chindings, keys });
  return keys;
}

/**
 * pino `onChild`: the child's new bindings, minus those its parent already has with the same
 * value; a different value keeps its parent's key and is bound as `<key>_`.
 */
export function dedupeChildBindings(child: Logger): void {
  const internal = child as unknown as Internal;
  const parent = Object.getPrototypeOf(child) as Logger;
  const inherited = (parent as unknown as Internal)[chindingsSym] ?? '';
  const own = (internal[chindingsSym] ?? '').slice(inherited.length);
  const bound = boundKeys(parent);
  let added = '';
  for (const [k, v] of Object.entries(parseBindings(own))) {
    const value = JSON.stringify(v);
    if (bound.get(k) === value) continue;
    const key = bound.has(k)
      ? freeName(k, (n) => bound.has(n) || added.includes(`,${JSON.stringify(n)}:`))
      : k;
    added += `,${JSON.stringify(key)}:${value}`;
  }
  internal[chindingsSym] = inherited + added;
}

/** pino `hooks.logMethod`: renames or drops a line's fields that would repeat a key. */
export function uniqueFields(this: Logger, args: unknown[], method: (...a: unknown[]) => void): void {
  const obj = args[0];
  if (obj !== null && typeof obj === 'object' && isPlain(obj)) {
    const bound = boundKeys(this);
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(obj)) {
      // A `msg` field is the message itself unless the call gives one too.
      const clash = bound.has(k) || RECORD_KEYS.includes(k) || (k === 'msg' && args.length > 1);
      if (!clash) continue;
      out ??= { ...obj };
      delete out[k];
      if (bound.get(k) === JSON.stringify(v)) continue;
      out[freeName(k, (n) => n in out! || bound.has(n))] = v;
    }
    if (out) args = [out, ...args.slice(1)];
  }
  method.apply(this, args);
}

/** `key_`, `key__`…: the first that is not taken. */
function freeName(key: string, taken: (name: string) => boolean): string {
  let name = `${key}_`;
  while (taken(name)) name += '_';
  return name;
}

function parseBindings(chindings: string): Record<string, unknown> {
  return chindings ? (JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>) : {};
}

function isPlain(o: object): boolean {
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
}
