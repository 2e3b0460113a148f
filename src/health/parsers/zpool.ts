/** Parser for `zpool status -x` (OpenZFS): only pools with problems are printed. Pure. */

export interface PoolProblem {
  pool: string;
  state: string;
  status?: string;
  action?: string;
  errors?: string;
}

export type ZpoolStatus =
  | { kind: 'healthy' }
  | { kind: 'no-pools' }
  | { kind: 'problems'; pools: PoolProblem[] }
  | { kind: 'unrecognized'; text: string };

export function parseZpoolStatusX(text: string): ZpoolStatus {
  const trimmed = text.trim();
  if (/^all pools are healthy$/m.test(trimmed)) return { kind: 'healthy' };
  if (/^no pools available$/m.test(trimmed)) return { kind: 'no-pools' };
  const pools: PoolProblem[] = [];
  let cur: PoolProblem | undefined;
  let field: 'status' | 'action' | undefined;
  for (const line of text.split('\n')) {
    const kv = /^\s*(pool|state|status|action|see|scan|config|errors):\s?(.*)$/.exec(line);
    if (kv) {
      const [, key, value = ''] = kv;
      field = undefined;
      if (key === 'pool') {
        cur = { pool: value.trim(), state: 'UNKNOWN' };
        pools.push(cur);
      } else if (cur && key === 'state') cur.state = value.trim();
      else if (cur && (key === 'status' || key === 'action')) {
        cur[key] = value.trim();
        field = key;
      } else if (cur && key === 'errors') cur.errors = value.trim();
      continue;
    }
    // status/action paragraphs continue on lines indented with a tab.
    if (cur && field && /^\t\S/.test(line)) cur[field] = `${cur[field]} ${line.trim()}`;
    else field = undefined;
  }
  return pools.length > 0 ? { kind: 'problems', pools } : { kind: 'unrecognized', text: trimmed };
}
