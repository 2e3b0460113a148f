/**
 * Which config file bo reads: --config, then $BO_CONFIG, then /etc/bo/bo.yaml, then ./bo.yaml,
 * then (only in a source checkout) the shipped example.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';

/** The directory holding bo's package.json (src/config/ and dist/config/ both sit two below). */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const EXAMPLE_CONFIG = join(PACKAGE_ROOT, 'config', 'bo.example.yaml');
export const DEFAULT_CONFIG_PATHS = ['/etc/bo/bo.yaml', './bo.yaml'];

export interface LocateOptions {
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  exists?: (path: string) => boolean;
}

export function locateConfig(opts: LocateOptions = {}): { file: string; embedded: boolean } {
  const env = opts.env ?? process.env;
  const exists = opts.exists ?? existsSync;
  const explicit = opts.flag ?? env.BO_CONFIG;
  if (explicit) {
    if (!exists(explicit)) throw new UsageError(`config file ${explicit} does not exist`);
    return { file: resolve(explicit), embedded: false };
  }
  for (const p of DEFAULT_CONFIG_PATHS) if (exists(p)) return { file: resolve(p), embedded: false };
  // The example writes its state and repository into the package directory: right for someone
  // trying bo in a fresh clone, wrong for an installed copy that merely lacks its config.
  if (isSourceCheckout(exists)) return { file: EXAMPLE_CONFIG, embedded: true };
  throw new UsageError(
    `no config found (looked for --config, $BO_CONFIG, ${DEFAULT_CONFIG_PATHS.join(' and ')})`,
    {
      hint: `create /etc/bo/bo.yaml (or pass --config FILE), e.g. from the shipped example: cp ${EXAMPLE_CONFIG} /etc/bo/bo.yaml`,
    },
  );
}

/**
 * A git clone has .git beside package.json (a directory, or a file in a worktree); npm never
 * packs .git, so no installed copy has one, wherever it was installed to.
 */
function isSourceCheckout(exists: (path: string) => boolean): boolean {
  return exists(join(PACKAGE_ROOT, '.git'));
}
