import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { type RestoreProgress, type RestoreTarget, restoreBackup } from '../../jobs/restore.ts';
import { withRestoreSource } from '../../jobs/restore-from.ts';
import { coldObjects, thaw } from '../../jobs/tiers.ts';
import type { CliContext } from '../context.ts';
import { formatBytes, formatRate } from '../format.ts';
import { collect, loadIdentities } from '../identity.ts';
import { formatEta } from '../progress.ts';
import { tierOptions } from '../tier-options.ts';
import { restoreDumpCommand } from './restore-dump.ts';

interface RestoreOpts {
  backup?: string;
  path?: string[];
  to?: string;
  toHost?: string;
  force?: boolean;
  identity?: string[];
  json?: boolean;
  dump?: string;
  intoDb?: string;
  from?: string;
  wait?: boolean;
  tierSpeed?: string;
  tierDays?: string;
  tierPoll?: string;
}

export function registerRestore(program: Command, ctx: CliContext): void {
  program
    .command('restore')
    .description('Restore a backup into a local directory or onto a server, verifying every file')
    .argument('<what>', 'job name, backup id, or job/id')
    .option('-b, --backup <id>', 'which backup of the job: an id or "latest"', 'latest')
    .option('-p, --path <path>', 'restore only this file or directory (repeatable)', collect)
    .option('--to <dir>', 'extract into this local directory')
    .option('--to-host <host:dir>', 'extract onto a configured host with its own tar (keeps xattrs/ACLs)')
    .option('-f, --force', 'restore into a non-empty target, replacing files with the same names')
    .option(
      '-i, --identity <file>',
      'age identity file for encrypted backups (repeatable; or $BO_IDENTITY_FILE)',
      collect,
    )
    .option(
      '--dump <name>',
      'restore this database dump instead of files: --to FILE (- for stdout) or --to-host HOST (psql/mysql there)',
    )
    .option(
      '--into-db <name>',
      'with --dump --to-host: the database to restore into (default: the one dumped)',
    )
    .option(
      '--from <storage>',
      'read from this storage (one of the job\'s copies), or "any": the job\'s own, then each copy in turn',
    )
    .option('--no-wait', 'archive tier: request the tier restore and stop, instead of waiting for it')
    .option('--tier-speed <speed>', 'archive tier: Expedited, Standard or Bulk retrieval', 'Standard')
    .option('--tier-days <n>', 'archive tier: days the restored copies stay readable', '3')
    .option('--tier-poll <duration>', 'archive tier: how often to check whether the restore is done', '5m')
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      `
Files land under the target with their original paths: /srv/share/a.txt → DIR/srv/share/a.txt.
bo refuses entries that would escape the target (absolute paths, "..", symlink or hardlink tricks)
and never writes through a symlink already in the target, locally or on the server.
It checks each file's SHA-256 against the index and the archive's SHA-256 against the manifest,
and reports success only if everything matched. Files get their real name only once verified.
A --path that selects one name of a hardlinked file also restores the file it links to.
A local restore recreates device nodes only as root and cannot set xattrs/ACLs: it warns, and
--to-host restores them with the server's own tar.
A backup is read from the job's storage unless --from names one of its copies. When that storage
cannot be reached or an object fails verification, bo says so and names the copies holding the
backup; --from any falls back to them by itself (files already verified stay).
Archives in an archive tier (storageClass GLACIER, DEEP_ARCHIVE) are restored from it first: bo
requests the tier restore (RestoreObject) and waits until S3 has made them readable (hours for
Standard retrieval), or with --no-wait stops after requesting and says when to come back.

Examples:
  bo restore files1-share --to /tmp/restore
  bo restore files1-share --backup 20261122T020000Z-3f9a2c --path /srv/share/reports --to /tmp/r
  bo restore files1-share --to-host files1:/srv/restore -i /root/bo-identity.txt`,
    )
    .action(async (what: string, opts: RestoreOpts) => {
      if (Boolean(opts.to) === Boolean(opts.toHost))
        throw new UsageError(
          opts.dump === undefined
            ? 'give exactly one of --to DIR or --to-host HOST:DIR'
            : 'give exactly one of --to FILE (- for stdout) or --to-host HOST with --dump',
        );
      if (opts.dump !== undefined || opts.intoDb !== undefined) return restoreDumpCommand(ctx, what, opts);
      const services = ctx.services();
      const identities = loadIdentities(opts.identity, ctx.env);
      const target = resolveTarget(
        opts,
        services.host.bind(services),
        (name) => name in services.config.hosts || name === 'local',
      );
      const started = Date.now();
      const tier = tierOptions(opts, ctx);
      const { resolved, result, failures } = await withRestoreSource(
        services,
        { what, backup: opts.backup, from: opts.from },
        ({ storage, ref }, retry) =>
          restoreBackup({
            storage,
            ref,
            target,
            include: opts.path ?? [],
            force: (opts.force ?? false) || retry,
            identities,
            signal: ctx.signal,
            log: ctx.log,
            onProgress: restoreProgress(ctx, `${ref.job}/${ref.id}`, started),
            beforeRead: async (chain) => thaw(storage, await coldObjects(storage, chain), tier),
          }),
        { signal: ctx.signal, log: ctx.log },
      );
      const { ref } = resolved;
      ctx.out.status(undefined);
      for (const f of failures)
        ctx.out.note(
          `warning: could not restore from ${f.storage}: ${f.error}; used ${resolved.storage.name}`,
        );
      const seconds = (Date.now() - started) / 1000;
      for (const p of result.added)
        ctx.out.note(`note: also restored ${p}: a selected hardlink points to it`);
      for (const w of result.warnings) ctx.out.note(`warning: ${w}`);
      if (opts.json)
        ctx.out.json({
          backup: `${ref.job}/${ref.id}`,
          storage: resolved.storage.name,
          ...result,
          verified: true,
          seconds,
        });
      else
        ctx.out.print(
          `restored ${ref.job}/${ref.id}${opts.from || failures.length ? ` from ${resolved.storage.name}` : ''} to ${result.target}: ${result.files} files, ${formatBytes(result.bytes)}, all checksums verified (${seconds.toFixed(1)}s)${result.warnings.length ? `, ${result.warnings.length} warning(s)` : ''}`,
        );
    });
}

/** The TTY status line: files and bytes of the totals, rate, ETA; redrawn at most 10 times a second. */
export function restoreProgress(
  ctx: Pick<CliContext, 'out'>,
  label: string,
  started: number,
  now: () => number = Date.now,
): (p: RestoreProgress) => void {
  let drawn = 0;
  return (p) => {
    const t = now();
    const last = p.files === p.totalFiles && p.bytes >= p.totalBytes;
    if (!ctx.out.interactive || (t - drawn < 100 && !last)) return;
    drawn = t;
    const ms = t - started;
    const parts = [
      `restoring ${label}: ${p.files}/${p.totalFiles} files`,
      `${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`,
      formatRate(p.bytes, ms),
    ];
    if (p.bytes > 0 && p.bytes < p.totalBytes && ms >= 1000)
      parts.push(`ETA ${formatEta(((p.totalBytes - p.bytes) * ms) / p.bytes)}`);
    ctx.out.status(parts.join('  '));
  };
}

function resolveTarget(
  opts: RestoreOpts,
  host: (name: string) => import('../../remote/host.ts').Host,
  known: (name: string) => boolean,
): RestoreTarget {
  if (opts.to) return { kind: 'local', dir: resolve(opts.to) };
  const m = /^([^:]+):(\/.*)$/.exec(opts.toHost ?? '');
  if (!m) throw new UsageError(`--to-host wants HOST:/absolute/dir, got "${opts.toHost}"`);
  if (!known(m[1]!)) throw new UsageError(`unknown host "${m[1]}" in --to-host`);
  return { kind: 'host', host: host(m[1]!), dir: m[2]! };
}
