import { resolve } from 'node:path';
import { resolveBackup } from '../../catalog/resolve.ts';
import { dumpName } from '../../config/schema.ts';
import { UsageError } from '../../errors.ts';
import { type DumpTarget, findDump, restoreDump } from '../../jobs/dump-restore.ts';
import { coldObjects, thaw } from '../../jobs/tiers.ts';
import type { CliContext } from '../context.ts';
import { formatBytes } from '../format.ts';
import { loadIdentities } from '../identity.ts';
import { tierOptions } from '../tier-options.ts';

export interface RestoreDumpOpts {
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

/** `bo restore JOB --dump NAME (--to FILE|- | --to-host HOST [--into-db DB])`. */
export async function restoreDumpCommand(
  ctx: CliContext,
  what: string,
  opts: RestoreDumpOpts,
): Promise<void> {
  if (!opts.dump) throw new UsageError('--into-db needs --dump NAME');
  if (opts.path?.length) throw new UsageError('--path does not apply to --dump');
  if (opts.intoDb && !opts.toHost) throw new UsageError('--into-db needs --to-host HOST');
  const services = ctx.services();
  const identities = loadIdentities(opts.identity, ctx.env);
  if (opts.from === 'any')
    throw new UsageError('--from any restores files only; with --dump, name the storage to read from');
  if (opts.from) services.storage(opts.from); // an unknown name is a usage error
  const only = opts.from ? [opts.from] : undefined;
  const { storage, ref } = await resolveBackup(services, what, opts.backup, ctx.signal, only);
  const rec = findDump(ref, opts.dump);
  const cold = await coldObjects(storage, [ref], { archives: false, dumps: [rec.name] });
  await thaw(storage, cold, tierOptions(opts, ctx));
  let target: DumpTarget;
  if (opts.toHost) {
    const name = opts.toHost;
    if (name.includes(':')) throw new UsageError(`--to-host with --dump wants a host name, got "${name}"`);
    if (name !== 'local' && !(name in services.config.hosts))
      throw new UsageError(`unknown host "${name}" in --to-host`);
    const job = services.config.jobs[ref.job];
    const spec = job?.kind === 'backup' ? job.dumps.find((d) => dumpName(d) === rec.name) : undefined;
    target = { kind: 'host', host: services.host(name), intoDb: opts.intoDb, spec };
  } else if (opts.to === '-') {
    if (opts.json) throw new UsageError('--json cannot be combined with --to - (the dump goes to stdout)');
    target = { kind: 'stream', out: process.stdout, label: 'stdout' };
  } else {
    target = { kind: 'file', path: resolve(opts.to!), force: opts.force ?? false };
  }
  const started = Date.now();
  const result = await restoreDump({
    storage,
    ref,
    dump: opts.dump,
    target,
    identities,
    signal: ctx.signal,
    log: ctx.log,
  });
  const seconds = (Date.now() - started) / 1000;
  if (target.kind === 'stream') {
    ctx.out.note(
      `restored dump ${rec.name} of ${ref.job}/${ref.id} to stdout: ${formatBytes(result.bytes)}, checksum verified`,
    );
  } else if (opts.json) {
    ctx.out.json({
      backup: `${ref.job}/${ref.id}`,
      dump: rec.name,
      target: result.target,
      bytes: result.bytes,
      verified: true,
      seconds,
    });
  } else {
    ctx.out.print(
      `restored dump ${rec.name} of ${ref.job}/${ref.id} to ${result.target}: ${formatBytes(result.bytes)}, checksum verified (${seconds.toFixed(1)}s)`,
    );
  }
}
