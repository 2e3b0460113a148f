import type { Command } from 'commander';
import { formatDuration } from '../../config/duration.ts';
import { type LockView, listLocks } from '../../storage/lock-list.ts';
import { describeOwner } from '../../storage/lock-record.ts';
import type { CliContext } from '../context.ts';
import { table } from '../format.ts';

export function registerLocks(program: Command, ctx: CliContext): void {
  program
    .command('locks')
    .description('Show the job locks held in storage (backups and prunes of a job never overlap)')
    .option('-s, --storage <name>', 'only this storage target')
    .option('-a, --all', 'also show released locks')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
A lock is held while a backup or prune of the job runs, refreshed by its owner every TTL/4.
A lock whose owner died goes "stale" once its TTL passes (at once when the owner was a process on
this machine) and is taken over by the next run: locks never need removing by hand.

Examples:
  bo locks
  bo locks --all --storage offsite --json`,
    )
    .action(async (opts: { storage?: string; all?: boolean; json?: boolean }) => {
      const services = ctx.services();
      const names = opts.storage ? [opts.storage] : Object.keys(services.config.storage);
      const now = ctx.clock.now();
      const rows: Array<LockView & { storage: string }> = [];
      for (const name of names) {
        for (const v of await listLocks(services.storage(name), now, { signal: ctx.signal })) {
          if (opts.all || v.status !== 'released') rows.push({ storage: name, ...v });
        }
      }
      if (opts.json) return ctx.out.json({ locks: rows });
      if (rows.length === 0) return ctx.out.print(opts.all ? 'no locks' : 'no locks held');
      ctx.out.print(
        table(
          rows.map((r) => [
            r.storage,
            r.scope,
            r.status,
            r.record ? describeOwner(r.record.owner) : (r.error ?? '?'),
            r.record ? `${ago(now, r.record.acquiredAt)} ago` : '-',
            r.record ? expires(now, r.record.expiresAt) : '-',
          ]),
          ['STORAGE', 'LOCK', 'STATUS', 'OWNER', 'SINCE', 'EXPIRES'],
        ),
      );
    });
}

function ago(now: Date, iso: string): string {
  return formatDuration(Math.max(0, now.getTime() - Date.parse(iso)));
}

function expires(now: Date, iso: string): string {
  const ms = Date.parse(iso) - now.getTime();
  return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
}
