import type { CheckName, Config, HealthCheckSpec } from '../config/schema.ts';
import type { BackupStatus } from './backups.ts';
import type { SnapshotStatus } from './snapshots.ts';
import type { CheckResult } from './types.ts';

/** The options of one check, as configured. */
export type SpecOf<N extends CheckName> = Extract<HealthCheckSpec, { check: N }>;

/** What a probe command printed on the host; `code` null when it was cut short (timeout). */
export interface ProbeOutput {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** An earlier result of the same check and subject, from the state database. */
export interface Sample {
  /** Milliseconds since the epoch. */
  at: number;
  value?: number | undefined;
  data: Record<string, number | string | boolean>;
}

export interface EvalContext {
  host: string;
  now: Date;
  /** Earlier results of this check for `subject`, oldest first; empty without a state database. */
  history(subject: string): Sample[];
  /** The host clock minus bo's, measured by the probe (± uncertainty). */
  clockSkew?: { skewMs: number; uncertaintyMs: number } | undefined;
}

/**
 * A check measured by a shell command on the host. The runner batches the commands of every
 * probe check of a host into one exec over the host's one connection, then hands each check its
 * own section of the output (probe.ts). Checks whose commands are equal share one section.
 * `evaluate` is pure: all I/O is in the runner.
 */
export interface ProbeCheck<N extends CheckName = CheckName> {
  readonly type: 'probe';
  readonly name: N;
  /**
   * POSIX sh; runs with LC_ALL=C and sbin directories on PATH. It must not `exit` (it may share a
   * shell with other sections). A command that cannot hang may read files with `c FILE` (cat
   * made of shell builtins: no process).
   */
  command(spec: SpecOf<N>): string;
  /**
   * False for commands that cannot block (reads of /proc): they run first, in the batch's own
   * shell. Anything that touches disks, daemons or D-Bus runs later under `timeout`, which costs
   * processes: a plain command line one more (timeout), anything else two (timeout and sh).
   */
  readonly mayHang: boolean;
  /**
   * For commands that may hang: a test made of shell builtins (`command -v`, `[ -d … ]`), run in
   * the batch's shell first; when it fails, `otherwise` (builtins too) prints what the check
   * reads instead, and no timeout or sh is started (most hosts have no zpool or smartctl).
   */
  guard?(spec: SpecOf<N>): { test: string; otherwise: string };
  /** Checks of one group (that may hang) share one `timeout sh -c`: one budget, fewer processes. */
  readonly group?: string;
  /**
   * Run (bounded too) after `command` failed, other than by a timeout, without printing anything,
   * e.g. for an option an older tool lacks; its output follows a "@@bo-fallback" line.
   */
  fallback?(spec: SpecOf<N>): string;
  evaluate(out: ProbeOutput, spec: SpecOf<N>, ctx: EvalContext): CheckResult[];
  /** How far back `ctx.history` should reach (ms), for checks that read trends. */
  historyWindow?(spec: SpecOf<N>): number;
}

export interface NetContext {
  host: string;
  /** The host's configured address (127.0.0.1 for "local"). */
  address: string;
  now: Date;
  signal: AbortSignal;
}

/** A check run from bo's own machine against the host (tcp, tls, http). */
export interface ActiveCheck<N extends CheckName = CheckName> {
  readonly type: 'active';
  readonly name: N;
  run(spec: SpecOf<N>, ctx: NetContext): Promise<CheckResult[]>;
}

export interface FleetContext {
  config: Config;
  now: Date;
  /** Backup status per job, read from the manifests in storage once per run. */
  backups: readonly BackupStatus[];
  /** Snapshot-taking jobs and their newest runs, from the run history. */
  snapshots: readonly SnapshotStatus[];
}

/** A check over the whole fleet's data rather than one host (backup and snapshot freshness). Pure. */
export interface FleetCheck<N extends CheckName = CheckName> {
  readonly type: 'fleet';
  readonly name: N;
  evaluate(spec: SpecOf<N>, ctx: FleetContext): CheckResult[];
}

/** One health check; every check in src/health/checks implements one of these shapes. */
export type HealthCheck<N extends CheckName = CheckName> = ProbeCheck<N> | ActiveCheck<N> | FleetCheck<N>;

/** A result for `ctx.host`; checks build theirs with it. */
export function result(
  ctx: { host: string },
  check: CheckName,
  fields: Omit<CheckResult, 'host' | 'check' | 'subject'> & { subject?: string },
): CheckResult {
  const { subject = '', ...rest } = fields;
  return { host: ctx.host, check, subject, ...rest };
}

/** The usual "command failed" outcome of a probe: unknown, with the reason from stderr. */
export function probeFailed(
  ctx: { host: string },
  check: CheckName,
  out: ProbeOutput,
  what: string,
  subject = '',
): CheckResult {
  const reason =
    out.code === null
      ? 'timed out'
      : out.code === 127
        ? 'command not found'
        : out.code === 124
          ? 'timed out (hung filesystem or device?)'
          : firstLine(out.stderr) || firstLine(out.stdout) || `exit code ${out.code}`;
  return result(ctx, check, { subject, status: 'unknown', message: `cannot run ${what}: ${reason}` });
}

export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}
