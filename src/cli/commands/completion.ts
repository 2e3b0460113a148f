import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { completionScript, SHELLS, type Shell } from '../completion.ts';
import type { CliContext } from '../context.ts';

/** `bo completion bash|zsh`: the completion script, from the same definitions as --help. */
export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('Print the shell completion script for bash or zsh')
    .argument('<shell>', SHELLS.join(' or '))
    .addHelpText(
      'after',
      `
Completes commands, their options, and the values of options with a fixed set (--log-level,
--log-format); other option values and arguments complete as file names.

Examples:
  bo completion bash > /etc/bash_completion.d/bo
  source <(bo completion bash)                     (in ~/.bashrc)
  bo completion zsh > "\${fpath[1]}/_bo"`,
    )
    .action((shell: string, _opts: unknown, cmd: Command) => {
      if (!(SHELLS as readonly string[]).includes(shell))
        throw new UsageError(`unknown shell "${shell}"`, { hint: `use one of ${SHELLS.join(', ')}` });
      ctx.out.print(completionScript(cmd.parent!, shell as Shell));
    });
}
