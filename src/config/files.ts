import { isAbsolute, join, resolve } from 'node:path';
import type { ConfigProblem } from '../errors.ts';
import type { SecretSources } from './secret.ts';

/** Relative local paths mean "next to the config file", never "wherever bo was started". */
export function anchorAt(base: string): (path: string) => string {
  return (p) => (isAbsolute(p) ? p : resolve(base, p));
}

/**
 * Files the hosts need, read now so a missing key is a config error (exit 2, nothing touched)
 * instead of a failed run that already wrote to storage: each host's private key, and the
 * known_hosts file it trusts (its own or `<stateDir>/known_hosts`) when that exists. A missing
 * known_hosts is fine: `bo hosts trust` creates it. Runs on the raw document, like crossCheck.
 */
export function fileProblems(raw: unknown, base: string, src: SecretSources): ConfigProblem[] {
  if (!isObj(raw) || !isObj(raw.hosts)) return [];
  const abs = anchorAt(base);
  const stateDir = abs(typeof raw.stateDir === 'string' ? raw.stateDir : '/var/lib/bo');
  const problems: ConfigProblem[] = [];
  for (const [name, h] of Object.entries(raw.hosts)) {
    if (!isObj(h)) continue;
    const at = `hosts.${name}`;
    if (typeof h.privateKey === 'string' && h.privateKey !== '') {
      const code = unreadable(src, abs(h.privateKey));
      if (code)
        problems.push({
          path: `${at}.privateKey`,
          message: `cannot read private key ${abs(h.privateKey)} (${code})`,
        });
    }
    // Pinned hostKey fingerprints win; known_hosts is then never read.
    if (h.hostKey !== undefined) continue;
    const own = typeof h.knownHosts === 'string' && h.knownHosts !== '';
    const file = own ? abs(h.knownHosts as string) : join(stateDir, 'known_hosts');
    const code = unreadable(src, file);
    if (code && code !== 'ENOENT') {
      problems.push({
        path: `${at}.knownHosts`,
        message: `cannot read ${own ? '' : 'the default '}known_hosts file ${file} (${code})`,
      });
    }
  }
  return problems;
}

/** The error code reading `path` fails with, or undefined when it can be read. */
function unreadable(src: SecretSources, path: string): string | undefined {
  try {
    src.readFile(path);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
