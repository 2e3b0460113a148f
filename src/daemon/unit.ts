import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BoError } from '../errors.ts';

/**
 * The systemd unit for `bo daemon` (`bo daemon --print-unit`): the template systemd/bo.service.in
 * with the real paths of this installation, so ExecStart is right wherever npm put bo and Node
 * 24, and the memory options of bin/bo's shebang, so the CLI and the service share one copy.
 */

const ROOT = new URL('../../', import.meta.url);

export interface UnitPaths {
  /** The Node 24 binary the daemon runs on. */
  node: string;
  /** bo's bin/bo. */
  bo: string;
  /** The config file the daemon reads. */
  config: string;
  /** bo's README, for Documentation=. */
  readme: string;
}

/** The unit for this installation: the running Node and this copy of bo. */
export function systemdUnit(config: string): string {
  const file = (rel: string) => fileURLToPath(new URL(rel, ROOT));
  const read = (rel: string) => {
    try {
      return readFileSync(file(rel), 'utf8');
    } catch (err) {
      throw new BoError(`cannot read ${file(rel)}: ${(err as Error).message}`, { cause: err });
    }
  };
  const shebang = read('bin/bo').split('\n', 1)[0]!;
  return renderUnit(read('systemd/bo.service.in'), shebang, {
    node: process.execPath,
    bo: file('bin/bo'),
    config: resolve(config),
    readme: file('README.md'),
  });
}

/** Fills the template. Pure. */
export function renderUnit(template: string, shebang: string, paths: UnitPaths): string {
  const { env, nodeOptions } = parseShebang(shebang);
  const values: Record<string, string> = {
    README: paths.readme.replaceAll('%', '%%'),
    ENVIRONMENT: env.map(systemdQuote).join(' '),
    NODE: systemdQuote(paths.node),
    NODE_OPTIONS: nodeOptions.map(systemdQuote).join(' '),
    BO: systemdQuote(paths.bo),
    CONFIG: systemdQuote(paths.config),
  };
  return template.replace(/@([A-Z_]+)@/g, (all, name: string) => values[name] ?? all);
}

/**
 * `#!/usr/bin/env -S VAR=value node --opt …`: the environment assignments before `node` and the
 * options after it.
 */
export function parseShebang(line: string): { env: string[]; nodeOptions: string[] } {
  const words = line
    .replace(/^#!\s*\S+\s+-S\s+/, '')
    .trim()
    .split(/\s+/);
  const node = words.findIndex((w) => w === 'node' || w.endsWith('/node'));
  if (!line.startsWith('#!') || node < 0)
    throw new BoError(`bin/bo's first line is not a node shebang: ${line}`);
  return { env: words.slice(0, node), nodeOptions: words.slice(node + 1) };
}

/** One ExecStart=/Environment= word: specifiers (%) and variables ($) escaped, quoted if it has spaces. */
export function systemdQuote(word: string): string {
  const escaped = word
    .replaceAll('\\', '\\\\')
    .replaceAll('%', '%%')
    .replaceAll('$', '$$$$')
    .replaceAll('"', '\\"');
  return /[\s"'\\]/.test(word) ? `"${escaped}"` : escaped;
}
