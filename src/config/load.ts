import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem, UsageError } from '../errors.ts';
import { anchorAt, fileProblems } from './files.ts';
import { type LocateOptions, locateConfig } from './locate.ts';
import { configErrorMap } from './messages.ts';
import { crossCheck } from './references.ts';
import { resolveSecrets } from './resolve-secrets.ts';
import { Config } from './schema.ts';
import { defaultSecretSources, type SecretSources } from './secret.ts';
import { unknownKeyMessages } from './unknown-keys.ts';

export interface LoadedConfig {
  file: string;
  config: Config;
  /** True when no config was found and the shipped example is in use (source checkouts only). */
  embedded: boolean;
}

export function loadConfig(opts: LocateOptions & { secrets?: SecretSources } = {}): LoadedConfig {
  const { file, embedded } = locateConfig(opts);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  return { file, embedded, config: parseConfig(text, file, opts.secrets) };
}

const EMPTY = 'the config is empty (no keys, only comments or ---): bo would have no storage, hosts or jobs';

/** YAML text → validated config with secrets resolved and relative paths anchored at the file. */
export function parseConfig(
  text: string,
  file: string,
  secrets: SecretSources = defaultSecretSources,
): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new ConfigError(file, doc.errors.map(yamlProblem));
  const raw: unknown = doc.toJS();
  // yaml reads an empty file, one of only comments and a bare `---` as null. As {} it would be
  // a valid config without jobs, and a daemon reloading a truncated file would unschedule all.
  if (raw === null || raw === undefined) throw new ConfigError(file, [{ path: '', message: EMPTY }]);
  const { result, parsed } = parseAll(raw);
  const resolved = resolveSecrets(parsed, secrets);
  const problems = [
    ...(result.success ? [] : zodProblems(result.error, parsed)),
    ...resolved.problems,
    ...crossCheck(raw),
    ...fileProblems(raw, dirname(file), secrets),
  ];
  if (problems.length > 0 || !result.success) throw new ConfigError(file, dedupe(problems));
  return anchorPaths(resolved.value as Config, dirname(file));
}

/**
 * The schema's verdict, and the document as far as it parsed. zod returns no value when any
 * part failed, but a refinement that always runs sees it: the secrets named in the sections
 * that did parse can then still be read, and their problems listed with the rest.
 */
function parseAll(raw: unknown): { result: ReturnType<typeof Config.safeParse>; parsed: unknown } {
  let parsed: unknown;
  const keep = Config.superRefine(
    (value) => {
      parsed = value;
    },
    { when: () => true },
  );
  const result = keep.safeParse(raw, { error: configErrorMap });
  return { result, parsed: result.success ? result.data : parsed };
}

/**
 * A YAML syntax error with the code frame prettyErrors gives it: the message, "at line L,
 * column C:", then the line(s) around it and a caret under the column.
 */
function yamlProblem(e: YAMLError): ConfigProblem {
  const [head = '', , ...frame] = e.message.split('\n');
  while (frame.length > 0 && frame.at(-1)!.trim() === '') frame.pop();
  return { path: '', message: [`YAML: ${head}`, ...frame].join('\n') };
}

/** One problem per issue, and per key of an unknown-keys issue; `doc` is what the schema saw. */
export function zodProblems(error: z.ZodError, doc: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  let unknownKey: ReturnType<typeof unknownKeyMessages> | undefined;
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      unknownKey ??= unknownKeyMessages(doc);
      for (const k of issue.keys)
        out.push({ path: path ? `${path}.${k}` : k, message: unknownKey(issue.path, k) });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Relative local paths mean "next to the config file", never "wherever bo was started". */
function anchorPaths(config: Config, base: string): Config {
  const abs = anchorAt(base);
  for (const s of Object.values(config.storage)) if (s.type === 'filesystem') s.path = abs(s.path);
  for (const h of Object.values(config.hosts)) {
    h.privateKey = abs(h.privateKey);
    if (h.knownHosts) h.knownHosts = abs(h.knownHosts);
  }
  for (const j of Object.values(config.jobs)) {
    if ('host' in j && j.host === 'local' && 'paths' in j) j.paths = j.paths.map(abs);
  }
  config.stateDir = abs(config.stateDir);
  config.daemon.socket = abs(config.daemon.socket);
  return config;
}
