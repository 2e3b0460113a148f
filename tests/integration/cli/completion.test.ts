/**
 * `bo completion bash|zsh` from the real executable, loaded into the real shells: the completion
 * function is called as the shell calls it (bash: COMP_WORDS/COMP_CWORD → COMPREPLY; zsh:
 * words/CURRENT → compadd, stubbed to print what it was given).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo } from '../../fixtures/bo.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';

const dir = mkdtempSync(join(tmpdir(), 'bo-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * What the completion offers for the command line `line` (the last word is being completed), with
 * what the script registered: bash's COMPREPLY and `complete -p bo`; zsh's compadd arguments
 * (compadd, _files and compdef stubbed to print).
 */
function complete(shell: 'bash' | 'zsh', script: string, line: string): string[] {
  const code = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, ${…} is the shell's
    bash: 'source "$1"; read -ra COMP_WORDS <<< "$2"; [[ $2 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _bo_complete; printf "%s\\n" "${COMPREPLY[@]}"; complete -p bo',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, ${…} is the shell's
    zsh: 'compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }; _files() { print -r -- "<files>"; }; compdef() { print -r -- "compdef $*"; }; source "$1"; words=(${(s: :)2}); [[ $2 == *" " ]] && words+=(""); CURRENT=${#words}; _bo',
  }[shell];
  const out = execFileSync(shell, [shell === 'zsh' ? '-fc' : '-c', code, '_', script, line], {
    encoding: 'utf8',
  });
  return out.split('\n').filter(Boolean);
}

describe('bo completion', () => {
  let bashScript: string;
  let zshScript: string;
  beforeAll(async () => {
    for (const shell of ['bash', 'zsh']) {
      const r = await runBo(['completion', shell]);
      expect(r.code, r.stderr).toBe(0);
      writeFileSync(join(dir, shell), r.stdout);
    }
    bashScript = join(dir, 'bash');
    zshScript = join(dir, 'zsh');
  });

  it('bash: completes subcommands, nested ones, options and option values', () => {
    const c = (line: string) => complete('bash', bashScript, line);
    expect(c('bo ba')).toEqual(['backup', 'complete -o default -F _bo_complete bo']);
    expect(c('bo backup n')).toContain('now');
    expect(c('bo key ')).toEqual(expect.arrayContaining(['generate', 'recipient']));
    expect(c('bo backup now --a')).toContain('--all');
    // Global options count anywhere; an option's value is not taken for a command.
    expect(c('bo --config /etc/bo/bo.yaml backup now --j')).toContain('--json');
    expect(c('bo --config backup ')).not.toContain('now');
    expect(c('bo --log-level d')).toContain('debug');
    expect(c('bo --log-format ')).toEqual(expect.arrayContaining(['json', 'text']));
    // A value without a fixed set: nothing from bo, bash completes file names (-o default).
    expect(c('bo restore tree --to ')).toEqual(['complete -o default -F _bo_complete bo']);
  });

  it('zsh: the same, through compadd', ({ skip }) => {
    if (missing('zsh', hasCommand('zsh'), 'Debian package zsh')) return skip();
    const c = (line: string) => complete('zsh', zshScript, line);
    expect(c('bo ba')).toEqual(expect.arrayContaining(['compdef _bo bo', 'backup', 'list']));
    expect(c('bo backup n')).toContain('now');
    expect(c('bo backup now --')).toContain('--detach');
    expect(c('bo --config /x backup now --')).toContain('--json');
    expect(c('bo --log-level ')).toEqual(expect.arrayContaining(['trace', 'silent']));
    expect(c('bo restore tree --to ')).toContain('<files>');
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runBo(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bo: unknown shell "fish"\nhint: use one of bash, zsh\n$/);
  });
});
