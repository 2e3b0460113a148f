import type { ConfigProblem } from '../errors.ts';
import { closest } from './suggest.ts';

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
    if (Array.isArray(j.copies)) problems.push(...copyReferences(at, j, storage));
    if (Array.isArray(j.paths) && typeof j.host === 'string' && j.host !== 'local') {
      j.paths.forEach((p, i) => {
        if (typeof p === 'string' && !p.startsWith('/')) {
          problems.push({ path: `${at}.paths.${i}`, message: `remote paths must be absolute, got "${p}"` });
        }
      });
    }
  }
  problems.push(...healthReferences(raw, hosts, jobs));
  return problems;
}

/** jobs.*.copies: each a configured storage, not the job's own, listed once. */
function copyReferences(at: string, j: Raw, storage: Raw): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  (j.copies as unknown[]).forEach((c, i) => {
    const name =
      typeof c === 'string' ? c : isObj(c) && typeof c.storage === 'string' ? c.storage : undefined;
    if (name === undefined) return;
    const path = `${at}.copies.${i}`;
    if (!(name in storage))
      problems.push({ path, message: `unknown storage "${name}"${suggest(name, Object.keys(storage))}` });
    else if (name === j.storage)
      problems.push({ path, message: `"${name}" is the job's own storage: a copy must go elsewhere` });
    else if (seen.has(name)) problems.push({ path, message: `"${name}" is listed twice` });
    seen.add(name);
  });
  return problems;
}

/** health.checks, health.notify, jobs.*.notify and health jobs: hosts, roles, jobs and notifiers must exist. */
function healthReferences(raw: Raw, hosts: Raw, jobs: Raw): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const notify = isObj(raw.notify) ? raw.notify : {};
  const roles = new Set(
    Object.values(hosts).flatMap((h) =>
      isObj(h) && Array.isArray(h.roles) ? h.roles.filter((r) => typeof r === 'string') : [],
    ),
  );
  const names = (v: unknown) =>
    Array.isArray(v) ? v.map((x, i) => [x, i] as const).filter(([x]) => typeof x === 'string') : [];
  const refs = (at: string, v: unknown, known: string[], what: string, allow: string[] = []) => {
    for (const [x, i] of names(v)) {
      if (!known.includes(x as string) && !allow.includes(x as string)) {
        const head = what === 'role' ? `no host has role "${x}"` : `unknown ${what} "${x}"`;
        problems.push({ path: `${at}.${i}`, message: `${head}${suggest(x as string, known)}` });
      }
    }
  };
  const health = isObj(raw.health) ? raw.health : {};
  const checks = Array.isArray(health.checks) ? health.checks : [];
  checks.forEach((c, i) => {
    if (!isObj(c)) return;
    const at = `health.checks.${i}`;
    refs(`${at}.hosts`, c.hosts, Object.keys(hosts), 'host', ['local']);
    refs(`${at}.roles`, c.roles, [...roles], 'role');
    const backupJobs = Object.keys(jobs).filter(
      (j) => isObj(jobs[j]) && (jobs[j].kind ?? 'backup') === 'backup',
    );
    refs(`${at}.jobs`, c.jobs, backupJobs, 'backup job');
    const [warn, crit] = c.check === 'tls' ? [c.critDays, c.warnDays] : [c.warn, c.crit];
    if (typeof warn === 'number' && typeof crit === 'number' && warn > crit) {
      problems.push({
        path: at,
        message: c.check === 'tls' ? 'warnDays must not be below critDays' : 'warn must not exceed crit',
      });
    }
  });
  refs('health.notify', health.notify, Object.keys(notify), 'notifier');
  names(health.notify).forEach(([n, i]) => {
    const cfg = notify[n as string];
    if (isObj(cfg) && cfg.type === 'healthchecks') {
      problems.push({
        path: `health.notify.${i}`,
        message: `"${n}" is a healthchecks pinger: list it in a job's notify instead`,
      });
    }
  });
  for (const [name, j] of Object.entries(jobs)) {
    if (!isObj(j)) continue;
    refs(`jobs.${name}.notify`, j.notify, Object.keys(notify), 'notifier');
    if (j.kind === 'health') {
      refs(`jobs.${name}.hosts`, j.hosts, Object.keys(hosts), 'host', ['local']);
      refs(`jobs.${name}.roles`, j.roles, [...roles], 'role');
    }
  }
  return problems;
}

function suggest(name: string, candidates: string[]): string {
  const close = closest(name, candidates);
  return close
    ? ` (did you mean "${close}"?)`
    : candidates.length
      ? ` (known: ${candidates.join(', ')})`
      : '';
}
