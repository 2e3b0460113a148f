/**
 * Database dumps of a backup run: each dump command runs on the host and its output streams
 * straight into its own object beside the archive (compressed on the server when it has the
 * compressor, else here; age-encrypted to the job's recipients), hashed on the way. Nothing is
 * staged on disk. A dump that exits non-zero, even after writing output, fails the run; the
 * caller then removes every object the run stored.
 */
import type { Duplex, Readable } from 'node:stream';
import { createEncryptStream } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { createCompressor } from '../archive/compress.ts';
import { type DumpRecord, storedObject } from '../catalog/manifest.ts';
import type { Dump } from '../config/schema.ts';
import { BoError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BackupPlan } from '../plan/backup.ts';
import { classifyDumpResult, planDump } from '../plan/dumps.ts';
import type { Host } from '../remote/host.ts';
import { collectTail } from '../remote/stderr-tail.ts';
import { objectKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import { putVolumes } from '../storage/volumes.ts';
import { allOrAbort } from './all-or-abort.ts';

export interface DumpRunOptions {
  host: Host;
  storage: Storage;
  plan: BackupPlan;
  level: number | undefined;
  recipients: string[];
  signal: AbortSignal;
  log: Logger;
  /** Keys of stored objects, appended before each upload starts, so a failed run can remove them. */
  written: string[];
  onProgress?: ((p: { dump: string; bytes: number }) => void) | undefined;
}

/** Runs the dumps one after another; resolves with their manifest records. */
export async function runDumps(dumps: readonly Dump[], o: DumpRunOptions): Promise<DumpRecord[]> {
  const records: DumpRecord[] = [];
  for (const d of dumps) records.push(await runDump(d, o));
  return records;
}

async function runDump(d: Dump, o: DumpRunOptions): Promise<DumpRecord> {
  const { plan } = o;
  const dp = planDump(d, {
    compression: plan.compression,
    compressRemotely: plan.compressRemotely,
    level: o.level,
    encrypted: plan.encrypted,
  });
  const key = objectKey(plan, dp.objectName);
  const log = o.log.child({ dump: dp.name });
  log.info({ type: dp.type, compressRemotely: dp.compressRemotely }, 'Dump started');
  const ac = new AbortController();
  const signal = AbortSignal.any([o.signal, ac.signal]);
  const proc = await o.host.exec(dp.command, { signal });
  const stderr = collectTail(proc.stderr, 64 * 1024);
  proc.stdin.end(dp.input ?? '');

  const stages: Duplex[] = [];
  if (plan.compression !== 'none' && !dp.compressRemotely)
    stages.push(createCompressor(plan.compression, o.level));
  if (plan.encrypted) stages.push(createEncryptStream(o.recipients));
  const body: Readable = stages.length ? chainStreams(proc.stdout, stages) : proc.stdout;
  o.written.push(key);
  const [stored, exit] = await allOrAbort(
    [
      putVolumes(o.storage, key, body, {
        signal,
        bulk: true,
        log,
        onProgress: (bytes) => o.onProgress?.({ dump: dp.name, bytes }),
      }),
      proc.done,
    ] as const,
    (err) => {
      ac.abort(err);
      proc.kill();
    },
  );
  const verdict = classifyDumpResult(stderr(), exit);
  if (!verdict.ok) throw new BoError(`dump ${dp.name} on ${o.host.name} failed: ${verdict.message}`);
  for (const v of stored.volumes?.slice(1) ?? []) o.written.push(objectKey(plan, v.key));
  log.info({ stored: stored.size }, 'Dump stored');
  return {
    name: dp.name,
    type: dp.type,
    ...(dp.database ? { database: dp.database } : {}),
    object: storedObject(dp.objectName, stored),
  };
}
