import { join } from 'node:path';
import type { Command } from 'commander';
import type { StateDb } from '../../catalog/db.ts';
import { openStateDbReadOnly } from '../../catalog/db-read.ts';
import { backupIdTime } from '../../catalog/manifest.ts';
import type { RunRecord } from '../../catalog/runs.ts';
import type { Config } from '../../config/schema.ts';
import { connectDaemon } from '../../daemon/client.ts';
import { describeCopyStatus } from '../../daemon/copy-status.ts';
import { buildStatus, type JobStatus, type StatusReport } from '../../daemon/status.ts';
import { BoError, EXIT, errorMessage } from '../../errors.ts';
import { formatSizes } from '../../sizes.ts';
import type { CliContext } from '../context.ts';
import { formatAge, formatBytes, table } from '../format.ts';
import { progressBytes } from '../progress.ts';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('Show each job: last success, last attempt, next run, and live progress of running jobs')
    .option('--json', 'print the status report as JSON')
    .addHelpText(
      'after',
      `
Asks the running daemon (daemon.socket); without one, reads the state database in stateDir.
Each job shows its last success and, when something came after it, its last attempt (failed,
cancelled, abandoned) or the run under way. Exits 1 when there is a problem, so it works as a
monitoring probe: a job's last run failed, was cancelled or abandoned (and no new run is under
way), a job is overdue, a backup job's last restore drill failed, jobs have a schedule but no
daemon is running, the run history cannot be read, or the daemon does not answer within 10 s.

Examples:
  bo status
  bo status --json | jq '.problems'`,
    )
    .action(async (opts: { json?: boolean }) => {
      const { config } = ctx.config();
      const daemon = await connectDaemon(config, { signal: ctx.signal });
      const report = daemon ? await daemon.status() : offlineStatus(config, ctx.clock.now());
      if (opts.json) ctx.out.json(report);
      else ctx.out.print(renderStatus(report, ctx.clock.now(), config));
      if (report.problems.length > 0) ctx.setExit(EXIT.jobFailed);
    });
}

/** The status from the state database alone, read-only (no daemon running). */
export function offlineStatus(config: Config, now: Date): StatusReport {
  let db: StateDb | undefined;
  try {
    db = openStateDbReadOnly(config.stateDir);
    return buildStatus({ config, db, now });
  } catch (err) {
    const hint = err instanceof BoError && err.hint ? ` (${err.hint})` : '';
    return buildStatus({ config, db: undefined, now, historyError: `${errorMessage(err)}${hint}` });
  } finally {
    db?.close();
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s / 60}m`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatIn(at: string | undefined, now: Date): string {
  if (!at) return '-';
  const ms = Date.parse(at) - now.getTime();
  if (ms <= 0) return 'now';
  return `in ${formatDuration(ms).replace(/^(\d+[hm])\d+[ms]$/, '$1')}`;
}

/** The newest success, whatever came after it. */
function lastSuccess(j: JobStatus, now: Date): string {
  const r = j.lastSuccess;
  if (!r?.finishedAt) return 'never';
  const age = formatAge(new Date(r.finishedAt), now);
  const took = r.startedAt ? ` · ${formatDuration(Date.parse(r.finishedAt) - Date.parse(r.startedAt))}` : '';
  const size =
    r.bytes === undefined
      ? ''
      : ` · ${j.kind === 'backup' ? formatSizes({ sourceBytes: r.bytes, storedBytes: r.storedBytes }) : formatBytes(r.bytes)}`;
  // verify/drill/prune: their summary is the result ("verified 3 of 3 … ciphertext only, no identity").
  const said = j.kind !== 'backup' && r.summary ? ` · ${r.summary.replace(`${j.job}: `, '')}` : '';
  return `ok ${age}${took}${size}${said}${chainText(r.chain, now)}`;
}

/** " · incr 3, full 2d ago" (the chain's length and its full's age) or " · full". */
function chainText(chain: RunRecord['chain'], now: Date): string {
  if (!chain) return '';
  if (chain.type === 'full') return ' · full';
  const root = backupIdTime(chain.root);
  return ` · incr ${chain.level}${root ? `, full ${formatAge(root, now)}` : ''}`;
}

/** The run under way, else the newest attempt when it is not the success shown beside it. */
function lastAttempt(j: JobStatus, now: Date): string {
  if (j.run?.startedAt) {
    const p = j.run.progress;
    const live = p ? ` · ${p.phase} · ${progressBytes(p)} · ${p.files} files` : '';
    const on = j.run.node ? ` on ${j.run.node}` : '';
    return `RUNNING${on} for ${formatDuration(now.getTime() - Date.parse(j.run.startedAt))}${live}`;
  }
  if (j.run) return `QUEUED${j.run.position ? ` #${j.run.position}` : ''}`;
  const r = j.lastRun;
  if (!r || r.id === j.lastSuccess?.id) return '-';
  // An abandoned run read from the history without a daemon has no end: bo died during it.
  const when = r.finishedAt
    ? ` ${formatAge(new Date(r.finishedAt), now)}`
    : `, started ${formatAge(new Date(r.startedAt ?? r.queuedAt), now)}`;
  return `${r.outcome?.toUpperCase()}${when}: ${(r.error ?? '').split('\n')[0]}`;
}

/** Per backup job, "last proven restorable" by a restore drill (bo drill, drill jobs). */
function provenLines(report: StatusReport, now: Date): string[] {
  const rows = report.jobs
    .filter((j) => j.kind === 'backup')
    .map((j) => {
      const p = j.drill?.proven;
      const proven = p
        ? `${formatAge(new Date(p.at), now)} · drill took ${formatDuration(p.durationMs)} · backup ${p.backupId}`
        : 'never';
      const f = j.drill?.lastFailed;
      const failed = f ? ` (last drill FAILED ${formatAge(new Date(f.at), now)}: ${f.detail ?? ''})` : '';
      return [`  ${j.job}`, `${proven}${failed}`];
    });
  return rows.length ? ['', 'last proven restorable (restore drill):', trimLines(table(rows))] : [];
}

/** Per backup job with copies: how far each copy lags (from the last copy runs recorded here). */
function copyLines(report: StatusReport): string[] {
  const rows = report.jobs.flatMap((j) => (j.copies ?? []).map((c) => [`  ${j.job}`, describeCopyStatus(c)]));
  return rows.length
    ? ['', 'copies (lag: since the oldest backup a copy lacks):', trimLines(table(rows))]
    : [];
}

export function renderStatus(report: StatusReport, now: Date, config: Config): string {
  const rows = report.jobs.map((j) => [
    j.job,
    j.kind,
    j.host ?? '-',
    lastSuccess(j, now),
    lastAttempt(j, now),
    j.state === 'retry-wait'
      ? `retry ${formatIn(j.retryAt, now)}`
      : j.enabled
        ? formatIn(j.nextRunAt, now)
        : 'disabled',
    j.overdueSince ? 'OVERDUE' : '',
  ]);
  const lines = [
    rows.length
      ? trimLines(table(rows, ['JOB', 'KIND', 'HOST', 'LAST SUCCESS', 'LAST ATTEMPT', 'NEXT RUN', '']))
      : 'no jobs configured',
    ...provenLines(report, now),
    ...copyLines(report),
  ];
  const d = report.daemon;
  if (d) {
    const waiting = d.queue.length
      ? `, ${d.queue.length} queued (${d.queue.map((q) => q.job).join(', ')})`
      : '';
    lines.push('', `daemon: pid ${d.pid}, up since ${d.startedAt}, ${d.running} running${waiting}`);
    if (report.cluster) lines.push(...clusterLines(report.cluster, now));
  } else {
    lines.push('', `daemon: not running; history from ${join(config.stateDir, 'state.db')}`);
  }
  for (const p of report.problems) lines.push(`problem: ${p}`);
  return lines.join('\n');
}

/** The cluster's nodes: which answered, each one's heartbeat, runs and config. */
function clusterLines(c: NonNullable<StatusReport['cluster']>, now: Date): string[] {
  const rows = c.nodes.map((n) => [
    `  ${n.name}${n.name === c.node ? ' *' : ''}`,
    n.dead ? 'DEAD' : n.stoppedAt ? 'stopped' : 'up',
    `${formatAge(new Date(n.heartbeatAt), now)}`,
    String(n.running),
    n.configHash,
    n.version,
  ]);
  return [
    `cluster: ${c.nodes.filter((n) => !n.dead && !n.stoppedAt).length} of ${c.nodes.length} nodes up (* answered)`,
    trimLines(table(rows, ['  NODE', 'STATE', 'HEARTBEAT', 'RUNNING', 'CONFIG', 'VERSION'])),
  ];
}

export function trimLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
