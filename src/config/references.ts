import type { ConfigProblem } from '../errors.ts';

type Raw = Record<string, unknown>;

function isObj(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Cross-field rules: references between sections and per-kind requirements. Runs on the raw
 * document so its problems are reported together with the schema's, not after they are fixed.
 */
export function crossCheck(raw: unknown): ConfigProblem[] {
  if (!isObj(raw)) return [];
  const problems: ConfigProblem[] = [];
  const storage = isObj(raw.storage) ? raw.storage : {};
  const hosts = isObj(raw.hosts) ? raw.hosts : {};
  const jobs = isObj(raw.jobs) ? raw.jobs : {};

  if ('local' in hosts)
    problems.push({ path: 'hosts.local', message: '"local" is reserved for the machine bo runs on' });

  for (const [name, j] of Object.entries(jobs)) {
    if (!isObj(j)) continue;
    const at = `jobs.${name}`;
    if (typeof j.host === 'string' && j.host !== 'local' && !(j.host in hosts)) {
      problems.push({
        path: `${at}.host`,
        message: `unknown host "${j.host}"${suggest(j.host, Object.keys(hosts))}`,
      });
    }
    if (typeof j.storage === 'string' && !(j.storage in storage)) {
      problems.push({
        path: `${at}.storage`,
        message: `unknown storage "${j.storage}"${suggest(j.storage, Object.keys(storage))}`,
      });
    }
    if (Array.isArray(j.paths) && typeof j.host === 'string' && j.host !== 'local') {
      j.paths.forEach((p, i) => {
        if (typeof p === 'string' && !p.startsWith('/')) {
          problems.push({ path: `${at}.paths.${i}`, message: `remote paths must be absolute, got "${p}"` });
        }
      });
    }
  }
  return problems;
}

function suggest(name: string, candidates: string[]): string {
  const close = candidates.find((c) => distance(c, name) <= 2);
  return close
    ? ` (did you mean "${close}"?)`
    : candidates.length
      ? ` (known: ${candidates.join(', ')})`
      : '';
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
    }
  }
  return d[a.length]![b.length]!;
}
