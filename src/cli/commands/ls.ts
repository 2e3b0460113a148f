import type { Command } from 'commander';
import { readBackupIndex } from '../../catalog/chain-index.ts';
import { resolveBackup } from '../../catalog/resolve.ts';
import { UsageError } from '../../errors.ts';
import { memberPath } from '../../jobs/restore.ts';
import type { CliContext } from '../context.ts';
import { formatBytes, table } from '../format.ts';
import { collect, loadIdentities } from '../identity.ts';

export function registerLs(program: Command, ctx: CliContext): void {
  program
    .command('ls')
    .description(
      'List files in a backup, from its index (an incremental: the whole tree, merged across its chain)',
    )
    .argument('<backup>', 'backup id, job/id, or job name (latest backup)')
    .argument('[path]', 'only entries under this path')
    .option('-i, --identity <file>', 'age identity file, for encrypted backups (repeatable)', collect)
    .option('--json', 'print entries as JSON lines')
    .addHelpText(
      'after',
      `
Names are shown escaped as ls -b does (backslash, \\n, \\t, \\x1b…); --json gives them as stored.
A PATH that is not in the backup is an error (exit 2).
An incremental backup lists the complete tree as of that backup, read from the indexes of its
chain; the last column (FROM) names the backup whose archive holds each file's data, which is
where a restore takes it from. --json adds it as "from".

Examples:
  bo ls files1-share /srv/share/reports
  bo ls files1-share/20261122T020000Z-3f9a2c --json -i /root/bo-identity.txt`,
    )
    .action(
      async (backup: string, path: string | undefined, opts: { identity?: string[]; json?: boolean }) => {
        const services = ctx.services();
        const { storage, ref } = await resolveBackup(services, backup, undefined, ctx.signal);
        const { chain, entries } = await readBackupIndex(
          storage,
          ref,
          loadIdentities(opts.identity, ctx.env),
          ctx.signal,
        );
        const incremental = chain.length > 1;
        const prefix = path ? memberPath(path) : '';
        const shown = entries.filter((e) => !prefix || e.path === prefix || e.path.startsWith(`${prefix}/`));
        if (prefix && shown.length === 0)
          throw new UsageError(`path /${prefix} is not in backup ${ref.job}/${ref.id}`);
        if (opts.json) {
          for (const { from, member: _, ...e } of shown) ctx.out.print(JSON.stringify({ ...e, from }));
          return;
        }
        ctx.out.print(
          table(
            shown.map((e) => [
              modeString(e.type, e.mode),
              escapeName(`${e.uname ?? e.uid}/${e.gname ?? e.gid}`),
              e.type === 'file' ? formatBytes(e.size) : '',
              new Date(e.mtime * 1000).toISOString().slice(0, 19).replace('T', ' '),
              `/${escapeName(e.path)}${e.linkpath ? ` -> ${escapeName(e.linkpath)}` : ''}`,
              ...(incremental ? [e.type === 'file' || e.type === 'hardlink' ? e.from : ''] : []),
            ]),
            incremental ? ['MODE', 'OWNER', 'SIZE', 'MODIFIED', 'PATH', 'FROM'] : undefined,
          ),
        );
      },
    );
}

/**
 * A name as one unambiguous line, as `ls -b` shows it: backslash and control characters escaped
 * (`\n`, `\t`, `\x1b`…), so a name with a newline or terminal escape cannot forge output.
 */
export function escapeName(name: string): string {
  const named: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
  return name.replace(
    /[\\\x00-\x1f\x7f-\x9f]/g,
    (c) => named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function modeString(type: string, mode: number): string {
  const t = { dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p' }[type] ?? '-';
  const rwx = (m: number, s: boolean, sc: string) =>
    `${m & 4 ? 'r' : '-'}${m & 2 ? 'w' : '-'}${s ? (m & 1 ? sc : sc.toUpperCase()) : m & 1 ? 'x' : '-'}`;
  return (
    t +
    rwx(mode >> 6, Boolean(mode & 0o4000), 's') +
    rwx(mode >> 3, Boolean(mode & 0o2000), 's') +
    rwx(mode, Boolean(mode & 0o1000), 't')
  );
}
