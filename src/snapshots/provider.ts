/**
 * One interface for btrfs, LVM and ZFS snapshots. Providers drive the host's own tools over a
 * Host (SSH or local), so nothing is installed on servers. Each provider keeps its command lines
 * and output parsers in a pure `<name>-plan.ts` beside it, unit-tested against recorded outputs.
 */
import type { SnapshotVolume } from '../config/schema.ts';
import type { Host } from '../remote/host.ts';

export type SnapshotProviderName = SnapshotVolume['provider'];

/** A snapshot bo created (its name parses with parseSnapshotName). */
export interface SnapshotInfo {
  provider: SnapshotProviderName;
  /** The configured volume it was taken of. */
  volume: string;
  name: string;
  job: string;
  /** When it was taken (from its name). */
  time: Date;
  /** Where it lives: the btrfs path, the LVM `vg/lv`, the ZFS `dataset@name`. */
  ref: string;
  /** Bytes it holds on its own, when the provider can tell (LVM: CoW space; ZFS: used; btrfs: with quotas). */
  size?: number | undefined;
  /** LVM: how full the CoW space is, in percent. */
  usedPercent?: number | undefined;
  /** LVM: the CoW space overflowed and the snapshot is unusable. */
  invalid?: boolean | undefined;
  /** Set on the short-lived snapshots of backup runs: the run id. A leftover with a marker is a crashed run's. */
  marker?: string | undefined;
  /** From `create`: why the snapshot may not be a perfect point in time (btrfs without flushoncommit). */
  warnings?: string[] | undefined;
}

/** A snapshot made readable: `path` holds, read-only, what `livePath` held when it was taken. */
export interface ReadView {
  path: string;
  livePath: string;
}

export interface ProviderOptions {
  signal: AbortSignal;
}

/**
 * Contract (each method runs commands on `host` and rejects with RemoteError/BoError naming the
 * host and the tool's own message):
 * - `create` takes a snapshot named `name` (already checked against the naming rule), tagging it
 *   with `marker` when given; it refuses to overwrite anything.
 * - `list` returns only snapshots of `volume` whose names bo creates; other snapshots are ignored.
 * - `delete` removes one snapshot returned by `list`/`create` and never anything else.
 * - `mountForRead` makes a snapshot readable (LVM mounts it read-only; btrfs and ZFS need no mount).
 * - `release` undoes `mountForRead`. It is idempotent and safe to call for a snapshot that was
 *   never mounted (cleanup after a crash calls it blindly before `delete`).
 */
export interface SnapshotProvider {
  readonly name: SnapshotProviderName;
  create(
    host: Host,
    vol: SnapshotVolume,
    name: string,
    opts: ProviderOptions & { marker?: string },
  ): Promise<SnapshotInfo>;
  list(host: Host, vol: SnapshotVolume, opts: ProviderOptions): Promise<SnapshotInfo[]>;
  delete(host: Host, vol: SnapshotVolume, snap: SnapshotInfo, opts: ProviderOptions): Promise<void>;
  mountForRead(host: Host, vol: SnapshotVolume, snap: SnapshotInfo, opts: ProviderOptions): Promise<ReadView>;
  release(host: Host, vol: SnapshotVolume, snap: SnapshotInfo, opts: ProviderOptions): Promise<void>;
}
