/**
 * Hook command lines: the user's command, run by the host's `sh -c`, with the run described in
 * exported BO_* variables. Pure.
 */
import type { HookCommand } from '../config/schema.ts';
import { shellQuote } from './shell.ts';

export type HookPhase = 'before' | 'afterSnapshot' | 'after' | 'onError';

export interface Hook {
  command: string;
  timeoutMs: number;
}

/** Config entries (a string or { command, timeout }) with the job's default timeout filled in. */
export function normalizeHooks(entries: readonly HookCommand[], defaultTimeoutMs: number): Hook[] {
  return entries.map((e) =>
    typeof e === 'string'
      ? { command: e, timeoutMs: defaultTimeoutMs }
      : { command: e.command, timeoutMs: e.timeout ?? defaultTimeoutMs },
  );
}

/** Only BO_ plus letters, digits and `_` become variables; values are quoted. */
export function hookCommandLine(command: string, env: Readonly<Record<string, string | undefined>>): string {
  const vars = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined && /^BO_[A-Z0-9_]+$/.test(e[0]))
    .map(([k, v]) => `${k}=${shellQuote(v.replaceAll('\0', ''))}`);
  return vars.length ? `export ${vars.join(' ')}\n${command}` : command;
}
