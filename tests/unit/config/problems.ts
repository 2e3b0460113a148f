import { parseConfig } from '../../../src/config/load.ts';
import type { SecretSources } from '../../../src/config/secret.ts';
import { ConfigError } from '../../../src/errors.ts';

/** Secret and key files the config tests may name; anything else does not exist. */
export function fakeFiles(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): SecretSources {
  return {
    env,
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return text;
    },
  };
}

const KEYS = fakeFiles({ '/etc/bo/id_ed25519': 'key' });

/** `path: message` of every problem parseConfig reports for the YAML text ([] when it is valid). */
export function problemsOf(text: string, secrets: SecretSources = KEYS): string[] {
  try {
    parseConfig(text, '/etc/bo/bo.yaml', secrets);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}
