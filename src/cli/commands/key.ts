import type { Command } from 'commander';
import {
  formatIdentityFile,
  generateIdentity,
  identityToRecipient,
  readIdentityFile,
  writeIdentityFile,
} from '../../archive/age/index.ts';
import type { CliContext } from '../context.ts';

export function registerKey(program: Command, ctx: CliContext): void {
  const key = program
    .command('key')
    .description('Manage age encryption keys (identity files are compatible with age-keygen)');
  key
    .command('generate')
    .description(
      'Generate an age X25519 identity; prints its public recipient (to put in the config) on stdout',
    )
    .option('-o, --out <file>', 'write the identity file here (mode 0600, never overwritten)')
    .addHelpText(
      'after',
      `
Without --out the identity itself goes to stdout. Keep it offline: the machine that writes
backups needs only the recipient (encryption.recipients), and restores need the identity.

Examples:
  bo key generate --out /root/bo-identity.txt
  bo key generate > identity.txt`,
    )
    .action((opts: { out?: string }) => {
      const generated = generateIdentity();
      const text = formatIdentityFile(generated, ctx.clock.now());
      if (!opts.out) {
        ctx.out.print(text);
        return;
      }
      writeIdentityFile(opts.out, text);
      ctx.out.note(
        `Wrote ${opts.out}: keep it safe and offline, encrypted backups cannot be restored without it`,
      );
      ctx.out.print(generated.recipient);
    });
  key
    .command('recipient')
    .description('Print the public recipient of each identity in an identity file (- for stdin)')
    .argument('<file>', 'identity file, as written by `bo key generate` or age-keygen')
    .addHelpText(
      'after',
      `
Examples:
  bo key recipient /root/bo-identity.txt
  age-keygen | bo key recipient -`,
    )
    .action((file: string) => {
      const ids = readIdentityFile(file, (message) => ctx.out.note(`warning: ${message}`));
      ctx.out.print(ids.map(identityToRecipient).join('\n'));
    });
}
