import type { Command } from 'commander';
import { listStorageBackups } from '../../catalog/catalog.ts';
import type { ChainInfo } from '../../catalog/manifest.ts';
import { EXIT, errorMessage, isAbortError } from '../../errors.ts';
import { brokenChains } from '../../plan/chain-links.ts';
import { jobStorages } from '../../plan/copy.ts';
import { backupSizes } from '../../sizes.ts';
import type { CliContext } from '../context.ts';
import { formatAge, formatBytes, table } from '../format.ts';

export function registerList(program: Command, ctx: CliContext): void {
  program
    .command('list')
    .description('List backups, read from the manifests in storage (no local state needed)')
    .option('-j, --job <job>', 'only this job')
    .option('-H, --host <host>', 'only backups of this host')
    .option('-s, --storage <name>', 'only this storage target')
    .option(
      '--full',
      'read every manifest instead of the per-job catalog (slower; the manifests are the truth)',
    )
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
SOURCE is what the backup's files hold, STORED what its objects take in storage (for an
incremental: only what it added). TYPE is "full" or "incr N": an incremental at level N of its
chain, restorable with the full and the N-1 incrementals listed before it ("standalone": a full
made with incremental: false; "BROKEN": a backup it needs is missing). --json gives each
backup's "chain" as its manifest records it (type, level, parent, root, reason). A storage that
cannot be listed is reported and the exit code is 1; the others are still listed.

Examples:
  bo list
  bo list --job files1-share --json
  bo list --storage offsite --full`,
    )
    .action(
      async (opts: { job?: string; host?: string; storage?: string; full?: boolean; json?: boolean }) => {
        const services = ctx.services();
        const names = opts.storage ? [opts.storage] : Object.keys(services.config.storage);
        // An unknown --storage is a usage error (exit 2), not a storage that failed to answer.
        if (opts.storage) services.storage(opts.storage);
        // One row per backup, naming every storage that holds it (its own and its copies).
        const rows: Array<Record<string, unknown> & { storages: string[] }> = [];
        const byBackup = new Map<string, (typeof rows)[number]>();
        const unreadable: Array<{ storage: string; key: string; error: string }> = [];
        const failed: Array<{ storage: string; error: string }> = [];
        for (const name of names) {
          const jobs = Object.entries(services.config.jobs)
            .filter(([, j]) => j.kind === 'backup' && jobStorages(j).some((s) => s.storage === name))
            .map(([n]) => n);
          let listing: Awaited<ReturnType<typeof listStorageBackups>>;
          try {
            listing = await listStorageBackups(services.storage(name), {
              jobs,
              job: opts.job,
              full: opts.full ?? false,
              signal: ctx.signal,
            });
          } catch (err) {
            // One unreachable storage must not hide the others: list those, report this one, exit 1.
            if (ctx.signal.aborted || isAbortError(err)) throw err;
            failed.push({ storage: name, error: errorMessage(err) });
            ctx.setExit(EXIT.jobFailed);
            continue;
          }
          for (const u of listing.unreadable) unreadable.push({ storage: name, ...u });
          const broken = brokenChains(
            listing.backups.map((b) => ({
              id: `${b.job}/${b.id}`,
              ...(b.manifest.chain?.type === 'incremental'
                ? { parent: b.manifest.chain.parent && `${b.job}/${b.manifest.chain.parent}` }
                : {}),
            })),
          );
          for (const b of listing.backups) {
            if (opts.host && b.manifest.host !== opts.host) continue;
            const m = b.manifest;
            const seen = byBackup.get(`${b.job}/${b.id}`);
            if (seen) {
              seen.storages.push(name);
              continue;
            }
            const row = {
              storage: name,
              storages: [name],
              job: b.job,
              id: b.id,
              host: m.host,
              finishedAt: m.finishedAt,
              files: m.stats.files,
              ...backupSizes(m),
              encrypted: m.encryption !== null,
              warnings: m.warnings.length,
              chain: m.chain,
              ...(broken.get(`${b.job}/${b.id}`) ? { chainBroken: true } : {}),
            };
            rows.push(row);
            byBackup.set(`${b.job}/${b.id}`, row);
          }
        }
        if (opts.json) return ctx.out.json({ backups: rows, unreadable, failed });
        const now = ctx.clock.now();
        const filters = [
          opts.job && `--job ${opts.job}`,
          opts.host && `--host ${opts.host}`,
          opts.storage && `--storage ${opts.storage}`,
        ].filter(Boolean);
        if (rows.length === 0 && filters.length > 0 && failed.length === 0)
          ctx.out.print(`no backups match ${filters.join(' ')}`);
        else if (rows.length === 0)
          ctx.out.print(failed.length ? 'no backups found in the storage that answered' : 'no backups found');
        else
          ctx.out.print(
            table(
              rows.map((r) => [
                `${r.job}/${r.id}`,
                String(r.host),
                formatAge(new Date(String(r.finishedAt)), now),
                typeOf(r.chain as ChainInfo | null, Boolean(r.chainBroken)),
                String(r.files),
                formatBytes(Number(r.sourceBytes)),
                formatBytes(Number(r.storedBytes)),
                `${r.storages.join(', ')}${r.encrypted ? ' (age)' : ''}${Number(r.warnings) ? ' (warnings)' : ''}`,
              ]),
              ['BACKUP', 'HOST', 'AGE', 'TYPE', 'FILES', 'SOURCE', 'STORED', 'STORAGE'],
            ),
          );
        for (const u of unreadable)
          ctx.out.note(`warning: unreadable manifest ${u.storage}:${u.key}: ${u.error}`);
        for (const f of failed) ctx.out.note(`error: cannot list storage ${f.storage}: ${f.error}`);
      },
    );
}

/** "full", "incr 3", "standalone", with "BROKEN" when a backup the chain needs is missing. */
function typeOf(chain: ChainInfo | null, broken: boolean): string {
  const t = !chain ? 'standalone' : chain.type === 'full' ? 'full' : `incr ${chain.level}`;
  return broken ? `${t} BROKEN` : t;
}
