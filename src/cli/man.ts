import type { Command, Option } from 'commander';
import { afterHelpText, commandPath, leafCommands } from './help.ts';

/**
 * bo(1) in roff (man -l), from the commander definitions: every command with its usage,
 * description, options and its --help text (details, Examples). Pure; scripts/gen-man.mjs
 * writes it to man/bo.1 at build time.
 */
export function renderManPage(program: Command, version: string): string {
  const out: string[] = [
    `.TH BO 1 "" "bo ${version}" "User Commands"`,
    '.SH NAME',
    `bo \\- ${text(lowerFirst(program.description()))}`,
    '.SH SYNOPSIS',
    '.B bo',
    '[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]',
    '.SH DESCRIPTION',
    'bo backs up servers agentlessly over SSH into S3-compatible storage or a local directory,',
    'restores them, checks their health, and as the daemon runs the same jobs on schedules.',
    'Every command has \\fB\\-\\-help\\fR with examples.',
    '.SH GLOBAL OPTIONS',
    ...options(program.options as Option[]),
    '.SH COMMANDS',
  ];
  for (const cmd of leafCommands(program)) out.push(...command(cmd));
  out.push(...preformatted('EXIT STATUS', afterHelpText(program)));
  out.push(
    '.SH ENVIRONMENT',
    ...defs([
      ['BO_CONFIG', 'the config file, when \\-\\-config is not given'],
      ['BO_LOG_LEVEL', 'like \\-\\-log\\-level'],
      ['BO_LOG_FORMAT', 'like \\-\\-log\\-format'],
      ['BO_IDENTITY_FILE', 'age identity file for restores of encrypted backups'],
      ['CREDENTIALS_DIRECTORY', 'where { credential: NAME } secrets are read (systemd LoadCredential=)'],
    ]),
    '.SH FILES',
    ...defs([
      ['/etc/bo/bo.yaml', 'the config file'],
      ['/var/lib/bo/state.db', 'run history and health history (stateDir)'],
      ['/run/bo/bo.sock', "the daemon's control socket (daemon.socket)"],
    ]),
    '.SH SEE ALSO',
    'The README and config/REFERENCE.md shipped with bo; \\fBsystemd.service\\fR(5), \\fBage\\fR(1).',
  );
  return `${out.join('\n')}\n`;
}

function command(cmd: Command): string[] {
  const path = commandPath(cmd).join(' ');
  const lines = [`.SS "${text(path)} ${text(cmd.usage())}"`, text(cmd.description())];
  const opts = (cmd.options as Option[]).filter((o) => !o.hidden);
  if (opts.length) lines.push('.PP', 'Options:', '.RS', ...options(opts), '.RE');
  const after = afterHelpText(cmd).trim();
  if (after) lines.push('.PP', '.nf', ...after.split('\n').map(line), '.fi');
  return lines;
}

function options(opts: readonly Option[]): string[] {
  return defs(
    opts.map((o) => [
      text(o.flags).replace(/<([^>]+)>/g, '\\fI$1\\fR'),
      `${o.description}${o.defaultValue !== undefined ? ` (default: ${String(o.defaultValue)})` : ''}`,
    ]),
    true,
  );
}

/** Tagged paragraphs; the tag is bold unless it carries its own fonts. */
function defs(rows: Array<[string, string]>, rawTag = false): string[] {
  return rows.flatMap(([tag, body]) => [
    '.TP',
    rawTag ? `\\fB${tag}\\fR` : `\\fB${text(tag)}\\fR`,
    text(body),
  ]);
}

function preformatted(title: string, body: string): string[] {
  const trimmed = body.trim();
  return trimmed ? [`.SH "${title}"`, '.nf', ...trimmed.split('\n').map(line), '.fi'] : [];
}

/** Text for roff: backslashes escaped, hyphens as \-, anything past ASCII as \[uXXXX]. */
function text(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(
      /[^\x00-\x7f]/gu,
      (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`,
    );
}

/** One line of a .nf block: a leading . or ' would be a request. */
function line(s: string): string {
  const t = text(s);
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
