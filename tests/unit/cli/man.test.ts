/**
 * bo(1) is generated from the commander definitions: every command, its options and its --help
 * text (Examples included) are in it, in plain-ASCII roff.
 */
import { describe, expect, it } from 'vitest';
import { commandPath, leafCommands, stubContext } from '../../../src/cli/help.ts';
import { renderManPage } from '../../../src/cli/man.ts';
import { buildProgram } from '../../../src/cli/program.ts';

const program = buildProgram(stubContext(), '9.9.9');
const page = renderManPage(program, '9.9.9');
const roff = (s: string) => s.replace(/-/g, '\\-');

describe('bo(1)', () => {
  it('is a section 1 page for this version', () => {
    expect(page).toMatch(/^\.TH BO 1 "" "bo 9\.9\.9" "User Commands"\n\.SH NAME\nbo \\- back\\-office/);
    for (const s of [
      'SYNOPSIS',
      'DESCRIPTION',
      'GLOBAL OPTIONS',
      'COMMANDS',
      'EXIT STATUS',
      'ENVIRONMENT',
      'FILES',
    ])
      expect(page).toMatch(new RegExp(`^\\.SH "?${s}"?$`, 'm'));
  });

  it('has every command with its usage, options and examples', () => {
    for (const cmd of leafCommands(program)) {
      const name = commandPath(cmd).join(' ');
      expect(page).toContain(`.SS "${roff(name)} ${roff(cmd.usage())}"`);
      for (const o of cmd.options.filter((x) => !x.hidden)) expect(page).toContain(roff(o.long ?? o.short!));
    }
    expect(page).toContain('\\fB\\-\\-log\\-format \\fIformat\\fR\\fR');
    expect(page).toMatch(/^ {2}bo backup now \\-\\-all \\-\\-json$/m);
    expect(page).not.toContain('bench\\-noop');
  });

  it('is plain ASCII, with no line a roff request by accident', () => {
    expect(page).toMatch(/^[\x00-\x7f]*$/);
    const body = page.split('\n').filter((l) => /^[.']/.test(l));
    for (const l of body) expect(l, l).toMatch(/^\.(TH|SH|SS|TP|PP|RS|RE|nf|fi|B) ?/);
  });
});
