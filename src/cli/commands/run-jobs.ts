import type { RunRecord } from '../../catalog/runs.ts';
import { connectDaemon } from '../../daemon/client.ts';
import { EXIT, UsageError } from '../../errors.ts';
import { openHistory } from '../../jobs/history.ts';
import { manualRun, runDurationMs, runRecorded } from '../../jobs/run-recorded.ts';
import type { CliContext } from '../context.ts';
import { progressRenderer } from '../progress.ts';
import { runViaDaemon } from './run-daemon.ts';

/**
 * What `bo backup now`, `bo snapshot now` and `bo run` share: the jobs run through a running
 * daemon (queued and followed, joining a run already queued or running) or else here, through
 * the same door (jobs/run-recorded.ts), recorded in the run history either way, with live
 * progress. Sets the exit code from the outcomes; returns undefined when `--detach` queued them.
 */
export async function runJobsNow(
  jobs: string[],
  opts: { json?: boolean; detach?: boolean; full?: boolean },
  ctx: CliContext,
  /** Prints one finished job (not called with --json). */
  report: (r: RunRecord) => void,
): Promise<RunRecord[] | undefined> {
  const { config } = ctx.config();
  const renderers = new Map<string, ReturnType<typeof progressRenderer>>();
  const render = (job: string) => {
    const r = renderers.get(job) ?? progressRenderer(ctx.out, job);
    renderers.set(job, r);
    return r;
  };
  const onDone = (r: RunRecord) => {
    ctx.out.status(undefined);
    if (!opts.json) report(r);
  };
  const daemon = await connectDaemon(config, { signal: ctx.signal });
  if (!daemon && opts.detach) throw new UsageError('--detach needs a running daemon (bo daemon)');
  const runs = daemon
    ? await runViaDaemon(
        daemon,
        jobs,
        { detach: opts.detach ?? false, json: opts.json ?? false, full: opts.full },
        ctx,
        render,
        onDone,
      )
    : await runHere(jobs, ctx, render, onDone, config.stateDir, opts.full ?? false);
  if (runs?.some((r) => r.outcome === 'cancelled')) ctx.setExit(EXIT.cancelled);
  else if (runs?.some((r) => r.outcome !== 'ok')) ctx.setExit(EXIT.jobFailed);
  return runs;
}

/**
 * The jobs one after another in this process. A failing job is recorded and the next one still
 * runs (one bad host never blocks the rest); cancellation stops the batch: the jobs not started
 * yet end cancelled, unrecorded.
 */
async function runHere(
  jobs: string[],
  ctx: CliContext,
  render: (job: string) => ReturnType<typeof progressRenderer>,
  onDone: (r: RunRecord) => void,
  stateDir: string,
  full: boolean,
): Promise<RunRecord[]> {
  const services = ctx.services();
  const history = openHistory(stateDir, ctx.log);
  const runs: RunRecord[] = [];
  try {
    for (const name of jobs) {
      const job = services.config.jobs[name]!;
      const queued = { ...manualRun(name, job, ctx.clock.now()), ...(full ? { full } : {}) };
      const deps = { services, log: ctx.log, signal: ctx.signal, history, onProgress: render(name) };
      const r: RunRecord = ctx.signal.aborted
        ? { ...queued, finishedAt: queued.queuedAt, outcome: 'cancelled', error: 'cancelled before start' }
        : await runRecorded(queued, job, deps);
      runs.push(r);
      onDone(r);
    }
    return runs;
  } finally {
    history?.close();
  }
}

/** A finished run as `--json` prints it (a stable shape for scripts). */
export function runJson(r: RunRecord) {
  const base = { job: r.job, kind: r.kind, runId: r.id, outcome: r.outcome, durationMs: runDurationMs(r) };
  if (r.outcome === 'ok') {
    const { summary = '', backupId, bytes, storedBytes, files, note } = r;
    return { ...base, result: { summary, backupId, bytes, storedBytes, files, ...(note ? { note } : {}) } };
  }
  return { ...base, error: r.error, hint: r.hint };
}
