import type { Command } from 'commander';
import { parseDuration } from '../../config/duration.ts';
import { UsageError } from '../../errors.ts';
import { findInBackups } from '../../jobs/find.ts';
import type { CliContext } from '../context.ts';
import { formatBytes } from '../format.ts';
import { collect, loadIdentities } from '../identity.ts';
import { escapeName } from './ls.ts';

export function registerFind(program: Command, ctx: CliContext): void {
  program
    .command('find')
    .description(
      'Find files across backups, from their indexes: which backups hold them, and when they changed',
    )
    .argument(
      '<pattern>',
      'a path or shell glob: "/srv/mail/alice/cur/*", "*.xlsx", "**" crosses directories',
    )
    .option('-j, --job <job>', 'only backups of this job')
    .option('--since <when>', 'only backups started since: a duration ("7d") or a date ("2026-12-01")')
    .option('-i, --identity <file>', 'age identity file, for encrypted backups (repeatable)', collect)
    .option('--json', 'print the paths and their versions as JSON')
    .addHelpText(
      'after',
      `
A pattern starting with "/" is anchored at the root; any other is matched at any depth ("cur/*",
"report.xlsx"). "*" and "?" never match "/", "**" does. A directory that matches brings every file
below it. For each path, bo lists the backups since it first appeared in which it is new, changed
(other content: SHA-256, size, type or link target) or gone; "same" versions are only in --json.
Only the indexes are read (an incremental's: its chain's), never an archive, so it is quick and
works on a fresh machine from the bucket alone.

Examples:
  bo find /srv/mail/alice/cur --since 14d
  bo find '*.xlsx' --job files1-share -i /root/bo-identity.txt --json`,
    )
    .action(
      async (
        pattern: string,
        opts: { job?: string; since?: string; identity?: string[]; json?: boolean },
      ) => {
        const services = ctx.services();
        const since = opts.since === undefined ? undefined : parseSince(opts.since, ctx.clock.now());
        const r = await findInBackups(services, {
          pattern,
          job: opts.job,
          since,
          identities: loadIdentities(opts.identity, ctx.env),
          signal: ctx.signal,
        });
        for (const p of r.problems) ctx.out.note(`warning: could not search ${p}`);
        if (opts.json) {
          const paths = r.paths.map((p) => ({
            job: p.job,
            path: p.path,
            versions: p.versions.map(({ backup, event, entry: e }) => ({
              backup: backup.id,
              storage: backup.storage,
              startedAt: backup.startedAt,
              event,
              ...(e && { type: e.type, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime }),
              ...(e?.sha256 && { sha256: e.sha256 }),
              ...(e?.linkpath !== undefined && { linkpath: e.linkpath }),
            })),
          }));
          return ctx.out.json({ backups: r.backups, paths, problems: r.problems });
        }
        if (r.paths.length === 0) {
          ctx.out.print(`no path matches ${pattern} in ${r.backups} backup(s)`);
          return;
        }
        for (const p of r.paths) {
          const held = p.versions.filter((v) => v.entry);
          const newest = held.at(-1)!.backup;
          ctx.out.print(
            `${p.job}: ${escapeName(p.path)}  (in ${held.length} backup(s), newest ${newest.id})`,
          );
          for (const v of p.versions) {
            if (v.event === 'same') continue;
            const e = v.entry;
            const what = e
              ? `${e.type === 'file' ? formatBytes(e.size) : e.type}  modified ${new Date(e.mtime * 1000).toISOString().slice(0, 19).replace('T', ' ')}${e.sha256 ? `  sha256 ${e.sha256.slice(0, 12)}` : ''}`
              : '';
            ctx.out.print(`  ${v.backup.id}  ${v.event.padEnd(7)}  ${what}`.trimEnd());
          }
        }
      },
    );
}

/** "7d" (a duration before now) or a date/time. */
function parseSince(text: string, now: Date): Date {
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() - ms);
  const d = new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--since wants a duration such as 7d or a date such as 2026-12-01, got "${text}"`);
  return d;
}
