import type { RunRecord } from '../../catalog/runs.ts';
import type { DaemonClient } from '../../daemon/client.ts';
import { failureOutcome, type JobProgress } from '../../jobs/kinds.ts';
import type { CliContext } from '../context.ts';

/**
 * `bo backup now`, `bo snapshot now` and `bo run` with a daemon running: the jobs are queued in
 * the daemon (joining a run that is already queued or running, so two requests never make two
 * runs) and followed here. Ctrl-C cancels the runs this command started; joined ones carry on.
 * Each returns the run's record as the daemon finished it.
 */
export async function runViaDaemon(
  daemon: DaemonClient,
  jobs: string[],
  opts: { detach: boolean; json: boolean; full?: boolean | undefined },
  ctx: CliContext,
  render: (job: string) => (p: JobProgress) => void,
  onDone: (r: RunRecord) => void,
): Promise<RunRecord[] | undefined> {
  const started: Array<{ job: string; runId: string; joined: boolean }> = [];
  for (const job of jobs) {
    const r = await daemon.enqueue(job, opts.full ? { full: true } : undefined);
    started.push({ job, runId: r.runId, joined: r.alreadyRunning });
  }
  if (opts.detach) {
    if (opts.json) ctx.out.json({ queued: started });
    else {
      for (const s of started) {
        ctx.out.print(
          `${s.job}: run ${s.runId} ${s.joined ? 'already queued or running (joined)' : 'queued'} in the daemon`,
        );
      }
    }
    return undefined;
  }
  return await Promise.all(
    started.map(async (s) => {
      const t0 = ctx.clock.now();
      let record: RunRecord;
      try {
        record = await daemon.follow(s.runId, render(s.job), ctx.signal);
      } catch (err) {
        if (failureOutcome(err, ctx.signal) !== 'cancelled') throw err;
        if (!s.joined) await daemon.cancel(s.runId).catch(() => false);
        const job = ctx.config().config.jobs[s.job];
        record = {
          id: s.runId,
          job: s.job,
          kind: job?.kind ?? 'backup',
          trigger: 'manual',
          attempt: 1,
          queuedAt: t0.toISOString(),
          finishedAt: ctx.clock.now().toISOString(),
          outcome: 'cancelled',
          error: 'cancelled',
        };
      }
      onDone(record);
      return record;
    }),
  );
}
