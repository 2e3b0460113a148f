/**
 * Restores one database dump of a backup: streams its object from storage, decrypts and
 * decompresses it here, and either pipes it into psql/mysql (or the command dump's `restore`) on
 * a host, or writes the plain SQL to a file or stream. The stored object's size and SHA-256 are
 * checked *before* the client sees the end of its input: on a mismatch the client is killed
 * instead, a PostgreSQL restore (inside a transaction whose COMMIT bo sends last) rolls back, and
 * a file target is only renamed into place once everything matched.
 */

import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { type Duplex, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AgeIdentity } from '../archive/age/index.ts';
import { createDecryptStream } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { createDecompressor } from '../archive/compress.ts';
import type { BackupRef } from '../catalog/backups.ts';
import type { DumpRecord } from '../catalog/manifest.ts';
import { openVerified } from '../catalog/objects.ts';
import type { Dump } from '../config/schema.ts';
import { BoError, errorMessage, isAbortError, UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { classifyDumpResult, type RestorePlan, restorePlan } from '../plan/dumps.ts';
import type { Host, RemoteProcess } from '../remote/host.ts';
import { collectTail } from '../remote/stderr-tail.ts';
import type { Storage } from '../storage/storage.ts';

export type DumpTarget =
  | { kind: 'file'; path: string; force: boolean }
  | { kind: 'stream'; out: NodeJS.WritableStream; label: string }
  | { kind: 'host'; host: Host; intoDb?: string | undefined; spec: Dump | undefined };

export interface DumpRestoreRequest {
  storage: Storage;
  ref: BackupRef;
  dump: string;
  target: DumpTarget;
  identities: AgeIdentity[] | undefined;
  signal: AbortSignal;
  log: Logger;
}

export function findDump(ref: BackupRef, name: string): DumpRecord {
  const rec = ref.manifest.dumps.find((d) => d.name === name);
  if (!rec) {
    const have = ref.manifest.dumps.map((d) => d.name);
    throw new UsageError(`backup ${ref.job}/${ref.id} has no dump "${name}"`, {
      hint: have.length ? `its dumps: ${have.join(', ')}` : 'it has no dumps',
    });
  }
  return rec;
}

export async function restoreDump(req: DumpRestoreRequest): Promise<{ bytes: number; target: string }> {
  const { ref, target, signal } = req;
  const rec = findDump(ref, req.dump);
  const m = ref.manifest;
  if (m.encryption && !req.identities?.length) {
    throw new UsageError(
      `backup ${ref.job}/${ref.id} is encrypted; pass --identity FILE with the age identity`,
    );
  }
  let plan: RestorePlan | undefined;
  let input = '';
  if (target.kind === 'host') {
    const spec = target.spec ?? specFromRecord(rec);
    plan = restorePlan(spec, target.intoDb);
    if (!plan)
      throw new UsageError(
        `dump ${rec.name} comes from a command; give the job's dump a "restore" command, or use --to FILE`,
      );
    input = `${spec.type !== 'command' && spec.password ? `${spec.password.reveal()}\n` : ''}${plan.prologue}`;
  }
  if (target.kind === 'file' && !target.force && (await stat(target.path).catch(() => undefined))) {
    throw new UsageError(`${target.path} exists; pass --force to replace it`);
  }
  const ac = new AbortController();
  const sig = AbortSignal.any([signal, ac.signal]);
  const read = await openVerified(req.storage, ref, rec.object, sig);
  const stages: Duplex[] = [];
  if (m.encryption) stages.push(createDecryptStream(req.identities!));
  stages.push(createDecompressor(m.compression));
  let bytes = 0;
  stages.push(
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb(null, chunk);
      },
      // The last chance to refuse: the sink only sees the end after the object checked out.
      flush(cb) {
        try {
          read.check();
          cb();
        } catch (err) {
          cb(err as Error);
        }
      },
    }),
  );
  const plain = chainStreams(read.stream, stages);
  const where = describe(target);
  req.log.info({ backup: `${ref.job}/${ref.id}`, dump: rec.name, target: where }, 'Dump restore started');
  try {
    if (target.kind === 'file') await toFile(plain, target.path, sig);
    else if (target.kind === 'stream') await pipeline(plain, target.out, { signal: sig, end: false });
    else await toHost(plain, target.host, plan!, input, signal, () => ac.abort());
  } catch (err) {
    ac.abort(err);
    if (signal.aborted || isAbortError(err)) throw err;
    const msg = `restore of dump ${rec.name} to ${where} FAILED: ${errorMessage(err)}`;
    const after =
      target.kind !== 'host'
        ? ''
        : plan?.epilogue
          ? '. The transaction was not committed.'
          : '. What the client applied before it was stopped may need undoing.';
    throw new BoError(`${msg}${after}`, { cause: err });
  }
  req.log.info({ bytes }, 'Dump restore verified');
  return { bytes, target: where };
}

/** The job is gone from the config: restore with the client's defaults. */
function specFromRecord(rec: DumpRecord): Dump {
  if (rec.type === 'postgres' || rec.type === 'mysql')
    return { type: rec.type, database: rec.database, options: [] };
  return { type: 'command', name: rec.name, command: 'false' };
}

function describe(t: DumpTarget): string {
  if (t.kind === 'file') return t.path;
  if (t.kind === 'stream') return t.label;
  return `${t.host.name}${t.intoDb ? ` (database ${t.intoDb})` : ''}`;
}

async function toFile(plain: NodeJS.ReadableStream, path: string, signal: AbortSignal): Promise<void> {
  const part = `${path}.bo-partial`;
  try {
    await pipeline(plain, createWriteStream(part, { mode: 0o600 }), { signal });
    await rename(part, path);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

async function toHost(
  plain: NodeJS.ReadableStream,
  host: Host,
  plan: RestorePlan,
  input: string,
  signal: AbortSignal,
  abort: () => void,
): Promise<void> {
  const proc = await host.exec(plan.command, { signal });
  const stderr = collectTail(proc.stderr, 64 * 1024);
  proc.stdout.resume();
  if (input) proc.stdin.write(input);
  let pipeErr: unknown;
  const piped = pipeline(plain, gate(proc, plan.epilogue), { signal }).catch((err: unknown) => {
    pipeErr = err;
    // Our side failed (integrity, storage, cancel): kill the client; it never gets the epilogue.
    if (!(err instanceof ClientGone)) {
      abort();
      proc.kill();
    }
  });
  const exit = await proc.done.catch((err: unknown) => {
    if (pipeErr === undefined) throw err;
    return undefined;
  });
  await piped;
  if (pipeErr !== undefined && !(pipeErr instanceof ClientGone)) throw pipeErr;
  const verdict = classifyDumpResult(stderr(), exit ?? { code: null, signal: 'KILL' }, 'the restore client');
  if (!verdict.ok) throw new BoError(verdict.message);
  if (pipeErr !== undefined) throw pipeErr;
}

class ClientGone extends BoError {}

/**
 * Forwards into the client's stdin with backpressure. Its end is passed on only on success;
 * a failure kills the client first, so it never takes a cut-short input for a complete one.
 */
function gate(proc: RemoteProcess, epilogue: string): Writable {
  const stdin = proc.stdin;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (stdin.destroyed || stdin.writableEnded)
        return cb(new ClientGone('the restore client closed its input early'));
      if (stdin.write(chunk)) return cb();
      const done = (err?: Error) => {
        stdin.off('drain', onDrain);
        stdin.off('close', onGone);
        stdin.off('error', onGone);
        cb(err);
      };
      const onDrain = () => done();
      const onGone = () => done(new ClientGone('the restore client stopped reading its input'));
      stdin.on('drain', onDrain);
      stdin.once('close', onGone);
      stdin.once('error', onGone);
    },
    final(cb) {
      stdin.end(epilogue, () => cb());
    },
  });
}
