/**
 * Which storage a restore reads from (`bo restore … --from`): the job's own by default, a named
 * one, or `any`: the job's own, then each of its copies, moving on when a storage cannot be
 * reached or an object in it fails verification. Without `--from any`, such a failure says so
 * and names the copies that hold the backup, with the command to use one.
 */
import { listJobBackups } from '../catalog/catalog.ts';
import { type ResolvedBackup, resolveBackup } from '../catalog/resolve.ts';
import {
  BoError,
  CancelledError,
  errorMessage,
  IntegrityError,
  NotFoundError,
  StorageError,
  UsageError,
} from '../errors.ts';
import type { Logger } from '../log.ts';
import { jobStorages } from '../plan/copy.ts';
import type { Services } from '../services.ts';
import { manifestKey } from '../storage/layout.ts';

/** `any`, a storage name, or undefined for the job's own storage. */
export type RestoreSource = string | undefined;

export interface FromAttempt<T> {
  resolved: ResolvedBackup;
  result: T;
  /** Storages tried before and why they failed (with --from any). */
  failures: Array<{ storage: string; error: string }>;
}

/**
 * Finds the backup in the storage(s) `from` allows and runs `run` on it (a restore, a dump
 * restore, a drill), falling back as described above. `run` gets `retry: true` when an earlier
 * storage failed midway (a restore target then holds verified files of that attempt).
 */
export async function withRestoreSource<T>(
  services: Services,
  sel: { what: string; backup: string | undefined; from: RestoreSource },
  run: (r: ResolvedBackup, retry: boolean) => Promise<T>,
  opts: { signal: AbortSignal; log: Logger },
): Promise<FromAttempt<T>> {
  const job = jobOf(services, sel.what);
  if (sel.from && sel.from !== 'any') {
    services.storage(sel.from); // an unknown name is a usage error
    const resolved = await resolveBackup(services, sel.what, sel.backup, opts.signal, [sel.from]);
    return { resolved, result: await run(resolved, false), failures: [] };
  }
  const order = sel.from === 'any' && job ? jobStorages(job).map((s) => s.storage) : undefined;
  const failures: Array<{ storage: string; error: string }> = [];
  for (const [i, storage] of (order ?? [undefined]).entries()) {
    let resolved: ResolvedBackup | undefined;
    try {
      resolved = await resolveBackup(
        services,
        sel.what,
        sel.backup,
        opts.signal,
        storage ? [storage] : undefined,
      );
      return { resolved, result: await run(resolved, failures.length > 0), failures };
    } catch (err) {
      if (opts.signal.aborted || err instanceof CancelledError || !storageFault(err)) throw err;
      const name = storage ?? resolved?.storage.name ?? job?.storage ?? '?';
      if (!order) throw await withCopiesHint(services, sel, job, name, resolved, err, opts.signal);
      failures.push({ storage: name, error: errorMessage(err) });
      opts.log.warn({ storage: name, err: errorMessage(err) }, 'Restore source failed; trying the next copy');
      if (i === order.length - 1)
        throw new BoError(
          `no storage could restore ${sel.what}: ${failures.map((f) => `${f.storage}: ${f.error}`).join(' | ')}`,
          { cause: err },
        );
    }
  }
  throw new UsageError(`no storage to restore ${sel.what} from`);
}

/**
 * A failure a copy elsewhere can help with: its root cause (the deepest bo error in the chain)
 * is an unreachable storage, a missing object or one that fails verification. Not a wrong
 * identity, a usage error or a failing target host, which a copy would not change.
 */
export function storageFault(err: unknown): boolean {
  let root: BoError | undefined;
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof BoError) root = e;
  return root instanceof IntegrityError || root instanceof NotFoundError || root instanceof StorageError;
}

function jobOf(services: Services, what: string) {
  const name = what.includes('/') ? what.split('/', 1)[0]! : what;
  const j = services.config.jobs[name];
  return j?.kind === 'backup' ? j : undefined;
}

/** The failure, with the copies that hold the backup (or the job's newest there) and how to use them. */
async function withCopiesHint(
  services: Services,
  sel: { what: string; backup: string | undefined },
  job: ReturnType<typeof jobOf>,
  failed: string,
  resolved: ResolvedBackup | undefined,
  err: unknown,
  signal: AbortSignal,
): Promise<unknown> {
  const copies = job ? jobStorages(job).filter((s) => s.storage !== failed) : [];
  if (copies.length === 0) return err;
  const holders: string[] = [];
  for (const c of copies) {
    try {
      const storage = services.storage(c.storage);
      if (resolved) {
        if (await storage.stat(manifestKey(resolved.ref.job, resolved.ref.id))) holders.push(c.storage);
      } else {
        const name = sel.what.includes('/') ? sel.what.split('/', 1)[0]! : sel.what;
        const newest = (await listJobBackups(storage, name, { signal })).backups.at(-1);
        if (newest) holders.push(`${c.storage} (newest there: ${newest.id})`);
      }
    } catch {
      // that copy cannot tell either: not named
    }
  }
  const what = resolved ? `backup ${resolved.ref.job}/${resolved.ref.id}` : `job ${sel.what}`;
  const message = `${errorMessage(err)}${resolved ? '' : ` (storage ${failed})`}`;
  if (holders.length === 0)
    return new BoError(`${message}; no copy of ${what} could be found either`, { cause: err });
  const first = holders[0]!.split(' ', 1)[0]!;
  return new BoError(message, {
    cause: err,
    exitCode: (err as BoError).exitCode,
    hint: `${what} is also in ${holders.join(', ')}: add --from ${first} (or --from any to fall back automatically)`,
  });
}
