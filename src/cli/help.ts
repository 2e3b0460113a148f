import type { EventEmitter } from 'node:events';
import type { Command } from 'commander';
import { BoError } from '../errors.ts';
import type { CliContext } from './context.ts';

/**
 * The commander definitions as data, for what is generated from them: the man page
 * (scripts/gen-man.ts), shell completion (`bo completion`) and the help tests.
 */

/** Commands that do something (no subcommands), depth first, in definition order. */
export function leafCommands(cmd: Command): Command[] {
  const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
  if (visible.length === 0) return cmd.parent ? [cmd] : [];
  return visible.flatMap(leafCommands);
}

/** ['bo', 'backup', 'now'] */
export function commandPath(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names;
}

/** What `.addHelpText('after', …)` added to the command's --help (details, Examples). */
export function afterHelpText(cmd: Command): string {
  let text = '';
  (cmd as unknown as EventEmitter).emit('afterHelp', {
    error: false,
    write: (s: string) => (text += s),
    command: cmd,
  });
  return text;
}

/**
 * A context for building the program only to read its definitions: nothing may run, so every
 * service throws (a bug if reached).
 */
export function stubContext(): CliContext {
  const none = (): never => {
    throw new BoError('internal: the command definitions were built to be read, not run');
  };
  return {
    log: undefined as never,
    out: { print: none, drain: async () => {}, json: none, note: none, status: none, interactive: false },
    clock: { now: () => new Date(0), sleep: none } as never,
    signal: new AbortController().signal,
    env: {},
    logging: { level: undefined, format: undefined },
    setExit: none,
    config: none,
    services: none,
  };
}
