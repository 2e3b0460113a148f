import { connectDaemon } from '../../daemon/client.ts';
import { EXIT, UsageError } from '../../errors.ts';
import { openHistory } from '../../jobs/manual-runs.ts';
import { type InlineOutcome, runJobsInline } from '../../jobs/run-inline.ts';
import type { CliContext } from '../context.ts';
import { progressRenderer } from '../progress.ts';
import { runViaDaemon } from './run-daemon.ts';

/**
 * What `bo backup now`, `bo snapshot now` and `bo run` share: the jobs run through a running
 * daemon (queued and followed, joining a run already queued or running) or else here, recorded in
 * the run history either way, with live progress. Sets the exit code from the outcomes; returns
 * undefined when `--detach` queued them and returned.
 */
export async function runJobsNow(
  jobs: string[],
  opts: { json?: boolean; detach?: boolean },
  ctx: CliContext,
  /** Prints one finished job (not called with --json). */
  report: (o: InlineOutcome) => void,
): Promise<InlineOutcome[] | undefined> {
  const { config } = ctx.config();
  const renderers = new Map<string, ReturnType<typeof progressRenderer>>();
  const render = (job: string) => {
    const r = renderers.get(job) ?? progressRenderer(ctx.out, job);
    renderers.set(job, r);
    return r;
  };
  const onDone = (o: InlineOutcome) => {
    ctx.out.status(undefined);
    if (!opts.json) report(o);
  };
  const daemon = await connectDaemon(config, { signal: ctx.signal });
  if (!daemon && opts.detach) throw new UsageError('--detach needs a running daemon (bo daemon)');
  const outcomes = daemon
    ? await runViaDaemon(
        daemon,
        jobs,
        { detach: opts.detach ?? false, json: opts.json ?? false },
        ctx,
        render,
        onDone,
      )
    : await runHere(jobs, ctx, render, onDone, config.stateDir);
  if (outcomes?.some((o) => o.outcome === 'cancelled')) ctx.setExit(EXIT.cancelled);
  else if (outcomes?.some((o) => o.outcome === 'failed')) ctx.setExit(EXIT.jobFailed);
  return outcomes;
}

async function runHere(
  jobs: string[],
  ctx: CliContext,
  render: (job: string) => ReturnType<typeof progressRenderer>,
  onDone: (o: InlineOutcome) => void,
  stateDir: string,
): Promise<InlineOutcome[]> {
  const history = openHistory(stateDir, ctx.log);
  try {
    return await runJobsInline(jobs, {
      services: ctx.services(),
      log: ctx.log,
      signal: ctx.signal,
      onProgress: (job, p) => render(job)(p),
      onDone,
      history,
    });
  } finally {
    history?.close();
  }
}
