import type { Command } from 'commander';
import type { ChainInfo } from '../../catalog/manifest.ts';
import { type BackupSummary, listStorageSummaries, type SummaryListing } from '../../catalog/summaries.ts';
import { EXIT, errorMessage, isAbortError } from '../../errors.ts';
import { brokenChains } from '../../plan/chain-links.ts';
import type { CliContext } from '../context.ts';
import { formatAge, formatBytes } from '../format.ts';

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
        const listings: Array<{ storage: string; backups: BackupSummary[]; broken: Map<string, unknown> }> =
          [];
        const unreadable: Array<{ storage: string; key: string; error: string }> = [];
        const failed: Array<{ storage: string; error: string }> = [];
        for (const name of names) {
          const jobs = Object.entries(services.config.jobs)
            .filter(([, j]) => j.kind === 'backup' && j.storage === name)
            .map(([n]) => n);
          let listing: SummaryListing;
          try {
            listing = await listStorageSummaries(services.storage(name), {
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
              ...(b.chain?.type === 'incremental'
                ? { parent: b.chain.parent && `${b.job}/${b.chain.parent}` }
                : {}),
            })),
          );
          const backups = opts.host ? listing.backups.filter((b) => b.host === opts.host) : listing.backups;
          listings.push({ storage: name, backups, broken });
        }
        // Row by row: a fleet's history is hundreds of thousands of backups, never one big string.
        const each = function* () {
          for (const l of listings)
            for (const b of l.backups)
              yield { storage: l.storage, b, broken: Boolean(l.broken.get(`${b.job}/${b.id}`)) };
        };
        const count = listings.reduce((n, l) => n + l.backups.length, 0);
        if (opts.json) {
          ctx.out.print('{"backups":[');
          let batch: string[] = [];
          let first = true;
          for (const { storage, b, broken } of each()) {
            batch.push(
              JSON.stringify({
                storage,
                job: b.job,
                id: b.id,
                host: b.host,
                finishedAt: b.finishedAt,
                files: b.files,
                sourceBytes: b.sourceBytes,
                storedBytes: b.storedBytes,
                encrypted: b.encrypted,
                warnings: b.warnings,
                chain: b.chain,
                ...(broken ? { chainBroken: true } : {}),
              }),
            );
            if (batch.length === 1000) {
              ctx.out.print(`${first ? '' : ','}${batch.join(',')}`);
              first = false;
              batch = [];
            }
          }
          if (batch.length) ctx.out.print(`${first ? '' : ','}${batch.join(',')}`);
          return ctx.out.print(
            `],"unreadable":${JSON.stringify(unreadable)},"failed":${JSON.stringify(failed)}}`,
          );
        }
        const now = ctx.clock.now();
        const filters = [
          opts.job && `--job ${opts.job}`,
          opts.host && `--host ${opts.host}`,
          opts.storage && `--storage ${opts.storage}`,
        ].filter(Boolean);
        if (count === 0 && filters.length > 0 && failed.length === 0)
          ctx.out.print(`no backups match ${filters.join(' ')}`);
        else if (count === 0)
          ctx.out.print(failed.length ? 'no backups found in the storage that answered' : 'no backups found');
        else {
          const cells = ({
            storage,
            b,
            broken,
          }: ReturnType<typeof each> extends Generator<infer T> ? T : never) => [
            `${b.job}/${b.id}`,
            b.host,
            formatAge(new Date(b.finishedAt), now),
            typeOf(b.chain, broken),
            String(b.files),
            formatBytes(b.sourceBytes),
            formatBytes(b.storedBytes),
            `${storage}${b.encrypted ? ' (age)' : ''}${b.warnings ? ' (warnings)' : ''}`,
          ];
          const header = ['BACKUP', 'HOST', 'AGE', 'TYPE', 'FILES', 'SOURCE', 'STORED', 'STORAGE'];
          // Two passes: the column widths, then the lines, a thousand at a time.
          const widths = header.map((h) => h.length);
          for (const r of each()) {
            for (const [i, c] of cells(r).entries()) widths[i] = Math.max(widths[i]!, c.length);
          }
          const line = (r: string[]) =>
            r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - c.length))).join('  ');
          let batch = [line(header)];
          for (const r of each()) {
            batch.push(line(cells(r)));
            if (batch.length === 1000) {
              ctx.out.print(batch.join('\n'));
              batch = [];
            }
          }
          if (batch.length) ctx.out.print(batch.join('\n'));
        }
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
