import { z } from 'zod';
import { Config } from './schema.ts';

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  required?: string[];
  minimum?: number;
  maximum?: number;
};

interface Row {
  path: string;
  type: string;
  required: boolean;
  def: string;
  description: string;
}

/** Renders config/REFERENCE.md from the zod schema, so the docs can never drift from the code. */
export function renderReference(): string {
  const schema = z.toJSONSchema(Config, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: Row[] = [];
  walk(schema, '', false, rows);
  const lines = [
    '# bo configuration reference',
    '',
    'Generated from `src/config/schema.ts` by `npm run docs`; do not edit by hand.',
    '`<name>` stands for a name you choose (letters, digits, `.`, `_`, `-`). Secrets are',
    '`{ env: NAME }`, `{ file: PATH }` or `{ credential: NAME }` (systemd `LoadCredential`).',
    'Durations are written like `30s`, `10m`, `2h`, `14d`.',
    '',
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| \`${r.path}\`${r.required ? ' (required)' : ''} | ${r.type} | ${r.def} | ${r.description} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  const alts = s.oneOf ?? s.anyOf;
  if (alts) {
    if (alts.every((a) => a.type === 'object' && a.properties && Object.keys(a.properties).length === 1)) {
      return alts.map((a) => `{${Object.keys(a.properties!)[0]}}`).join(' \\| ');
    }
    return [...new Set(alts.map(typeOf))].join(' \\| ');
  }
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return s.type ?? 'any';
}

function walk(s: JsonSchema, path: string, required: boolean, rows: Row[]): void {
  const alts = s.oneOf ?? s.anyOf;
  const isSecret = alts?.every(
    (a) => a.type === 'object' && a.properties && Object.keys(a.properties).length === 1,
  );
  if (path) {
    rows.push({
      path,
      type: typeOf(s),
      required,
      def: s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``,
      description: (s.description ?? '').replace(/\|/g, '\\|'),
    });
  }
  if (isSecret) return;
  if (s.properties) {
    for (const [k, v] of Object.entries(s.properties))
      walk(v, path ? `${path}.${k}` : k, s.required?.includes(k) ?? false, rows);
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    walk(s.additionalProperties, `${path}.<name>`, false, rows);
  if (alts && !isSecret) {
    // Union members (job kinds, storage types) each get their keys listed under the same path.
    for (const a of alts) {
      if (!a.properties) continue;
      const tag = Object.entries(a.properties).find(([, v]) => v.const !== undefined);
      const label = tag ? `${path}[${tag[0]}=${String(tag[1].const)}]` : path;
      for (const [k, v] of Object.entries(a.properties)) {
        if (tag && k === tag[0]) continue;
        walk(v, `${label}.${k}`, a.required?.includes(k) ?? false, rows);
      }
    }
  }
  // Lists of objects, including unions of them (health.checks: one entry shape per check).
  if (s.items?.properties || s.items?.oneOf || s.items?.anyOf)
    walk({ ...s.items, description: undefined, default: undefined }, `${path}[]`, false, rows);
}
