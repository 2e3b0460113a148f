import type { Command } from 'commander';
import { resolveBackup } from '../../catalog/resolve.ts';
import { EXIT, UsageError } from '../../errors.ts';
import { type CopiedJob, type CopyReport, copyJob } from '../../jobs/copy.ts';
import type { CliContext } from '../context.ts';
import { formatBytes } from '../format.ts';
import { collect } from '../identity.ts';

interface CopyOpts {
  to?: string[];
  from?: string;
  json?: boolean;
}

export function registerCopy(program: Command, ctx: CliContext): void {
  program
    .command('copy')
    .description("Copy backups to another storage, from the job's storage (never from the server again)")
    .argument('<what>', 'a backup job (every backup the target lacks), a backup id, or job/id')
    .option('--to <storage>', "target storage (repeatable; default: the job's copies)", collect)
    .option('--from <storage>', "source storage (default: the job's storage, or where the backup is)")
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      `
A job copies every backup the target lacks and the target's retention keeps (\`copies[].retention\`,
else the job's): a backup prune removed from a copy is not brought back. A backup (id or job/id)
is copied whatever the retention says. Incremental chains are copied whole, parents first.
Objects are copied as stored (encrypted ones stay encrypted; no identity needed), server-side
when both storages share an endpoint and credentials, and each is checked against the SHA-256 in
the manifest before it is kept; the manifest is written last. An interrupted copy leaves no
manifest, and the next run completes it. Exit code 1 when any backup could not be copied.

Examples:
  bo copy files1-share                       # catch up every storage in the job's copies
  bo copy files1-share --to coldsite
  bo copy files1-share/20261122T020000Z-3f9a2c --to usb-disk`,
    )
    .action(async (what: string, opts: CopyOpts) => {
      const services = ctx.services();
      const configured = services.config.jobs[what];
      let name = what;
      let job: CopiedJob;
      let only: string[] | undefined;
      let from = opts.from;
      if (configured) {
        if (configured.kind !== 'backup')
          throw new UsageError(`job "${what}" is a ${configured.kind} job, not a backup`);
        job = configured;
      } else {
        const found = await resolveBackup(services, what, undefined, ctx.signal);
        name = found.ref.job;
        only = [found.ref.id];
        const cfg = services.config.jobs[name];
        job =
          cfg?.kind === 'backup'
            ? cfg
            : { storage: found.storage.name, retention: undefined, copies: [], timezone: undefined };
        from ??= found.storage.name;
      }
      const targets = opts.to ?? job.copies.map((c) => c.storage);
      if (targets.length === 0)
        throw new UsageError(`job ${name} has no copies configured: give --to STORAGE`, {
          hint: `storage: ${Object.keys(services.config.storage).join(', ')}`,
        });
      for (const t of [...targets, ...(from ? [from] : [])]) services.storage(t); // unknown names: exit 2
      const reports: CopyReport[] = [];
      for (const to of targets) {
        const r = await copyJob(services, name, job, to, {
          from,
          only,
          signal: ctx.signal,
          log: ctx.log,
          onProgress: (p) => ctx.out.status(`copying ${name}/${p.id} to ${to}: ${formatBytes(p.bytes)}`),
        });
        ctx.out.status(undefined);
        reports.push(r);
        if (r.failed.length > 0) ctx.setExit(EXIT.jobFailed);
        if (!opts.json) ctx.out.print(describe(r));
      }
      if (opts.json) ctx.out.json({ copies: reports });
    });
}

function describe(r: CopyReport): string {
  const bytes = r.copied.reduce((n, c) => n + c.bytes, 0);
  const server = r.copied.reduce((n, c) => n + c.serverSide, 0);
  const lines = [
    `${r.job}: ${r.copied.length} backup(s) copied from ${r.from} to ${r.to} (${formatBytes(bytes)}${server ? `, ${server} object(s) server-side` : ''}), ${r.present.length} already there`,
  ];
  for (const c of r.copied)
    lines.push(
      `  copied   ${r.job}/${c.id}${c.kept ? ` (${c.kept} object(s) kept from an interrupted copy)` : ''}`,
    );
  for (const s of r.skipped) lines.push(`  skipped  ${r.job}/${s.id}: ${s.reason}`);
  for (const f of r.failed) lines.push(`  FAILED   ${r.job}/${f.id}: ${f.error}`);
  return lines.join('\n');
}
