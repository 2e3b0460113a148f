/**
 * The snapshot of one consistent backup run: clean up what a crashed run left, create a snapshot
 * marked with this run's id, make it readable, and on close always release and delete it, on
 * success, failure and cancellation alike. Cleanup runs under its own time limit, not the run's
 * (already aborted) signal, and first waits (bounded) until no process reads the snapshot any
 * more: a killed tar takes a moment to die, and releasing under it fails ("target is busy").
 */
import type { SnapshotVolume } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Host } from '../remote/host.ts';
import { parseStillBusy, waitUnusedCommand } from './busy-plan.ts';
import { snapshotName } from './names.ts';
import type { ReadView, SnapshotInfo, SnapshotProvider } from './provider.ts';
import { snapshotProvider } from './registry.ts';

export const CLEANUP_TIMEOUT_MS = 10 * 60_000;
/** How long close() waits for the processes reading the snapshot (a dying tar) to go. */
export const READER_WAIT_MS = 60_000;

export interface SnapshotSession {
  snapshot: SnapshotInfo;
  view: ReadView;
  /** Releases and deletes the snapshot. Rejects (after trying everything) when it could not. */
  close(): Promise<void>;
}

export interface SessionOptions {
  host: Host;
  vol: SnapshotVolume;
  job: string;
  runId: string;
  now: Date;
  log: Logger;
  signal: AbortSignal;
  provider?: SnapshotProvider | undefined;
  cleanupTimeoutMs?: number | undefined;
  readerWaitMs?: number | undefined;
}

export async function openSnapshotSession(o: SessionOptions): Promise<SnapshotSession> {
  const provider = o.provider ?? snapshotProvider(o.vol.provider);
  await removeLeftovers(provider, o.host, o.vol, o.job, o.log, o.signal);
  const name = snapshotName(o.job, o.now);
  let snapshot: SnapshotInfo | undefined;
  let view: ReadView | undefined;
  const close = async () => {
    const signal = AbortSignal.timeout(o.cleanupTimeoutMs ?? CLEANUP_TIMEOUT_MS);
    if (view) await waitForReaders(o.host, view.path, o.readerWaitMs ?? READER_WAIT_MS, o.log, signal);
    // When create was cut short we do not know whether the snapshot exists: find it by marker.
    const targets = snapshot
      ? [snapshot]
      : (await provider.list(o.host, o.vol, { signal })).filter(
          (s) => s.marker === o.runId && s.job === o.job,
        );
    for (const s of targets) await releaseAndDelete(provider, o.host, o.vol, s, signal);
    if (targets.length) o.log.info({ snapshot: targets.map((t) => t.ref) }, 'Snapshot released');
  };
  try {
    snapshot = await provider.create(o.host, o.vol, name, { signal: o.signal, marker: o.runId });
    o.log.info({ snapshot: snapshot.ref }, 'Snapshot created');
    for (const warning of snapshot.warnings ?? [])
      o.log.warn({ snapshot: snapshot.ref, warning }, 'Snapshot may not be one point in time');
    view = await provider.mountForRead(o.host, o.vol, snapshot, { signal: o.signal });
    return { snapshot, view, close };
  } catch (err) {
    await close().catch((cleanupErr: unknown) =>
      o.log.error(
        { err: errorMessage(cleanupErr), name },
        'Could not remove the snapshot of a failed run; the next run retries',
      ),
    );
    throw err;
  }
}

/**
 * Deletes this job's snapshots that carry a run marker: backup runs delete their snapshot when
 * they end, so one still there belongs to a run that crashed. (An LVM leftover is dangerous: as
 * its CoW space fills it slows writes to the origin and is finally invalidated.) Snapshots with
 * the job's name but no marker are reported and left alone.
 */
export async function removeLeftovers(
  provider: SnapshotProvider,
  host: Host,
  vol: SnapshotVolume,
  job: string,
  log: Logger,
  signal: AbortSignal,
): Promise<SnapshotInfo[]> {
  const mine = (await provider.list(host, vol, { signal })).filter((s) => s.job === job);
  const removed: SnapshotInfo[] = [];
  for (const s of mine) {
    if (!s.marker) {
      log.warn({ snapshot: s.ref }, 'Snapshot named like this job has no run marker; leaving it alone');
      continue;
    }
    await releaseAndDelete(provider, host, vol, s, signal);
    log.warn({ snapshot: s.ref, run: s.marker }, 'Removed leftover snapshot of an interrupted backup run');
    removed.push(s);
  }
  return removed;
}

/** Waits until no process uses `path`; past `waitMs` it logs who still does and lets release try. */
async function waitForReaders(
  host: Host,
  path: string,
  waitMs: number,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  try {
    const r = await host.run(waitUnusedCommand(path, waitMs / 1000), { signal });
    const busy = parseStillBusy(r.stdout);
    if (busy.length > 0)
      log.warn({ path, processes: busy, waitedMs: waitMs }, 'Snapshot still in use; releasing it anyway');
  } catch (err) {
    log.warn({ path, err: errorMessage(err) }, 'Could not check whether the snapshot is still in use');
  }
}

async function releaseAndDelete(
  provider: SnapshotProvider,
  host: Host,
  vol: SnapshotVolume,
  s: SnapshotInfo,
  signal: AbortSignal,
): Promise<void> {
  try {
    await provider.release(host, vol, s, { signal });
    await provider.delete(host, vol, s, { signal });
  } catch (err) {
    throw new BoError(`snapshot ${s.ref} on ${host.name} could not be removed: ${errorMessage(err)}`, {
      cause: err,
      hint: 'the next run of the job removes it; or remove it by hand',
    });
  }
}
