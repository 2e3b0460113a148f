import type { Command } from 'commander';
import { readBackupIndex } from '../../catalog/chain-index.ts';
import { resolveBackup } from '../../catalog/resolve.ts';
import { diffIndexes } from '../../plan/index-diff.ts';
import type { CliContext } from '../context.ts';
import { formatBytes } from '../format.ts';
import { collect, loadIdentities } from '../identity.ts';
import { escapeName } from './ls.ts';

export function registerDiff(program: Command, ctx: CliContext): void {
  program
    .command('diff')
    .description('What was added, removed and modified between two backups, from their indexes')
    .argument('<a>', 'the older backup: id, job/id, or job name (its latest)')
    .argument('<b>', 'the newer backup')
    .option('-i, --identity <file>', 'age identity file, for encrypted backups (repeatable)', collect)
    .option('--json', 'print the differences as JSON')
    .addHelpText(
      'after',
      `
Each line is "+ PATH" (added), "- PATH" (removed) or "M PATH (what)", where what is "content"
(SHA-256, size, type or link target) and/or mode, owner, mtime, xattrs. Files are compared by the
SHA-256 in the index, so no archive is read; an incremental is compared as the whole tree its
chain restores to. Works on encrypted backups with -i, and on a fresh machine.

Examples:
  bo diff files1-share/20261201T020000Z-aaaaaa files1-share/20261208T020000Z-bbbbbb
  bo diff 20261201T020000Z-aaaaaa files1-share --json -i /root/bo-identity.txt`,
    )
    .action(async (a: string, b: string, opts: { identity?: string[]; json?: boolean }) => {
      const services = ctx.services();
      const identities = loadIdentities(opts.identity, ctx.env);
      const tree = async (what: string) => {
        const { storage, ref } = await resolveBackup(services, what, undefined, ctx.signal);
        return { ref, entries: (await readBackupIndex(storage, ref, identities, ctx.signal)).entries };
      };
      const from = await tree(a);
      const to = await tree(b);
      const d = diffIndexes(from.entries, to.entries);
      const name = (r: typeof from.ref) => `${r.job}/${r.id}`;
      if (opts.json) {
        // Where the data is (chain, frames) is the index's business, not the difference's.
        const strip = ({ from: _f, member: _m, at: _a, ...e }: (typeof from.entries)[number]) => e;
        return ctx.out.json({
          a: name(from.ref),
          b: name(to.ref),
          added: d.added.map((e) => strip(e as (typeof from.entries)[number])),
          removed: d.removed.map((e) => strip(e as (typeof from.entries)[number])),
          modified: d.modified.map((m) => ({ path: m.path, changes: m.changes })),
        });
      }
      const size = (e: { type: string; size: number }) =>
        e.type === 'file' ? `  ${formatBytes(e.size)}` : '';
      for (const e of d.added) ctx.out.print(`+ /${escapeName(e.path)}${size(e)}`);
      for (const e of d.removed) ctx.out.print(`- /${escapeName(e.path)}${size(e)}`);
      for (const m of d.modified) ctx.out.print(`M /${escapeName(m.path)} (${m.changes.join(', ')})`);
      ctx.out.print(
        `${name(from.ref)} → ${name(to.ref)}: ${d.added.length} added, ${d.removed.length} removed, ${d.modified.length} modified`,
      );
    });
}
