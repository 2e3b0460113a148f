/**
 * `--help` of every command, from the commander definitions themselves: each leaf command shows
 * Examples that run that command, so a new command cannot ship without them; the global options
 * list what they accept.
 */
import { describe, expect, it } from 'vitest';
import { afterHelpText, commandPath, leafCommands, stubContext } from '../../../src/cli/help.ts';
import { buildProgram } from '../../../src/cli/program.ts';
import { LOG_FORMATS, LOG_LEVELS } from '../../../src/log.ts';

const program = buildProgram(stubContext(), '0.0.0-test');

describe('--help', () => {
  const leaves = leafCommands(program);

  it('walks every leaf command', () => {
    const names = leaves.map((c) => commandPath(c).join(' '));
    expect(names).toEqual(
      expect.arrayContaining(['bo backup now', 'bo list', 'bo key recipient', 'bo daemon']),
    );
    expect(names).not.toContain('bo backup');
    expect(names.length).toBeGreaterThanOrEqual(22);
  });

  it.each(leaves.map((c) => [commandPath(c).join(' '), c] as const))(
    '%s has an Examples section that runs it',
    (name, cmd) => {
      const after = afterHelpText(cmd);
      const examples = /\nExamples:\n((?: {2}.*\n?)+)/.exec(after)?.[1];
      expect(examples, `${name} --help has no "Examples:" section`).toBeDefined();
      // Each example runs this command (global options may come first, in a pipe or <(…)).
      for (const line of examples!.trimEnd().split('\n')) {
        const bare = line.trim().replace(/ (?:-c|--config|--log-level|--log-format) \S+/g, '');
        expect(bare, `${name}: example "${line.trim()}"`).toMatch(new RegExp(`(^|[|(] ?)${name}( |\\)|$)`));
      }
    },
  );

  it('--log-level lists every accepted level, --log-format every format', () => {
    const help = program.helpInformation({ error: false });
    const level = program.options.find((o) => o.long === '--log-level')!;
    expect(level.argChoices).toEqual(LOG_LEVELS);
    const format = program.options.find((o) => o.long === '--log-format')!;
    expect(format.argChoices).toEqual([...LOG_FORMATS]);
    const flat = help.replace(/\s+/g, ' ');
    expect(flat).toContain(`(choices: ${LOG_LEVELS.map((l) => `"${l}"`).join(', ')})`);
    expect(flat).toContain('(choices: "json", "text")');
  });
});
