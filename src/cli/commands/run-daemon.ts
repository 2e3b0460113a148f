import type { RunRecord } from '../../catalog/runs.ts';
import type { DaemonClient } from '../../daemon/client.ts';
import { isAbortError } from '../../errors.ts';
import type { JobProgress } from '../../jobs/kinds.ts';
import type { InlineOutcome } from '../../jobs/run-inline.ts';
import type { CliContext } from '../context.ts';

/**
 * `bo backup now`, `bo snapshot now` and `bo run` with a daemon running: the jobs are queued in
 * the daemon (joining a run that is already queued or running, so two requests never make two
 * runs) and followed here. Ctrl-C cancels the runs this command started; joined ones carry on.
 */
export async function runViaDaemon(
  daemon: DaemonClient,
  jobs: string[],
  opts: { detach: boolean; json: boolean },
  ctx: CliContext,
  render: (job: string) => (p: JobProgress) => void,
  onDone: (o: InlineOutcome) => void,
): Promise<InlineOutcome[] | undefined> {
  const started: Array<{ job: string; runId: string; joined: boolean }> = [];
  for (const job of jobs) {
    const r = await daemon.enqueue(job);
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
      const t0 = Date.now();
      let record: RunRecord;
      try {
        record = await daemon.follow(s.runId, render(s.job), ctx.signal);
      } catch (err) {
        if (!(ctx.signal.aborted || isAbortError(err))) throw err;
        if (!s.joined) await daemon.cancel(s.runId).catch(() => false);
        const o: InlineOutcome = {
          job: s.job,
          kind: ctx.config().config.jobs[s.job]?.kind ?? 'backup',
          outcome: 'cancelled',
          durationMs: Date.now() - t0,
          error: 'cancelled',
        };
        onDone(o);
        return o;
      }
      const o = toOutcome(record, Date.now() - t0);
      onDone(o);
      return o;
    }),
  );
}

function toOutcome(r: RunRecord, fallbackMs: number): InlineOutcome {
  const durationMs =
    r.startedAt && r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : fallbackMs;
  const base = { job: r.job, kind: r.kind as InlineOutcome['kind'], durationMs };
  if (r.outcome === 'ok') {
    return {
      ...base,
      outcome: 'ok',
      result: {
        summary: r.summary ?? '',
        ...(r.backupId ? { backupId: r.backupId } : {}),
        ...(r.bytes !== undefined ? { bytes: r.bytes } : {}),
        ...(r.storedBytes !== undefined ? { storedBytes: r.storedBytes } : {}),
        ...(r.files !== undefined ? { files: r.files } : {}),
      },
    };
  }
  return {
    ...base,
    outcome: r.outcome === 'cancelled' ? 'cancelled' : 'failed',
    error: r.error ?? `run ${r.id} ended ${r.outcome ?? 'without an outcome'}`,
  };
}
