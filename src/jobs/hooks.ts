/**
 * before / afterSnapshot / after / onError hooks of a job, run in order on the job's host, each
 * under its own timeout. A failing `before` hook aborts the run before anything is stored.
 * `afterSnapshot` hooks run once the snapshot is taken (and the dumps are done), before tar: the
 * place to resume what a `before` hook quiesced, so writers stop only for the snapshot, not for
 * the whole archive. They run exactly once per run, every one even when one fails (each may
 * resume its own writer), and then a failure fails the run: a run that ends before that point (a
 * failing before hook, dump or snapshot, a cancellation) runs them at its end, before `onError`;
 * a hook cut short by a cancellation runs again there, the ones that had finished do not.
 * `onError` hooks run when the run failed or was cancelled; `after` hooks run whatever the
 * outcome (a cancelled run still gets them, under their timeouts only, so "start the service
 * again" is never skipped).
 */

import { formatDuration } from '../config/duration.ts';
import type { HookCommand } from '../config/schema.ts';
import { BoError, CancelledError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type Hook, type HookPhase, hookCommandLine, normalizeHooks } from '../plan/hooks.ts';
import type { Host } from '../remote/host.ts';
import { lastLines } from '../snapshots/run.ts';
import { failureOutcome, type JobRunResult } from './kinds.ts';

export interface HookConfig {
  before: HookCommand[];
  afterSnapshot: HookCommand[];
  after: HookCommand[];
  onError: HookCommand[];
  hookTimeout: number;
}

export interface HookRunOptions {
  host: Host;
  env: Record<string, string | undefined>;
  log: Logger;
  signal: AbortSignal;
}

/** Runs one hook; rejects with a BoError saying which hook failed and why (exit, timeout). */
export async function runHook(phase: HookPhase, index: number, hook: Hook, o: HookRunOptions): Promise<void> {
  const timeout = AbortSignal.timeout(hook.timeoutMs);
  const signal = AbortSignal.any([o.signal, timeout]);
  const label = `${phase} hook #${index + 1} (${hook.command.split('\n')[0]!.slice(0, 80)})`;
  const started = Date.now();
  let r: Awaited<ReturnType<Host['run']>>;
  try {
    r = await o.host.run(hookCommandLine(hook.command, { ...o.env, BO_PHASE: phase }), {
      signal,
      maxBytes: 64 * 1024,
    });
  } catch (err) {
    if (timeout.aborted && !o.signal.aborted) {
      throw new BoError(
        `${label} timed out after ${formatDuration(hook.timeoutMs)} on ${o.host.name} and was killed`,
      );
    }
    if (failureOutcome(err, o.signal) === 'cancelled') throw new CancelledError(`${label} cancelled`);
    throw new BoError(`${label} could not run on ${o.host.name}: ${errorMessage(err)}`, { cause: err });
  }
  const ms = Date.now() - started;
  if (r.code !== 0) {
    o.log.warn(
      { phase, hook: index + 1, code: r.code, signal: r.signal, ms, stderr: lastLines(r.stderr, 10) },
      'Hook failed',
    );
    throw new BoError(
      `${label} failed on ${o.host.name} (${r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`})${tail(r.stderr)}`,
    );
  }
  o.log.info({ phase, hook: index + 1, ms }, 'Hook finished');
}

/** Runs every hook of a phase in order; `stopOnError` (before) rethrows the first failure, else failures are collected. */
export async function runHooks(
  phase: HookPhase,
  hooks: Hook[],
  o: HookRunOptions & { stopOnError: boolean },
): Promise<BoError[]> {
  const failures: BoError[] = [];
  for (const [i, hook] of hooks.entries()) {
    try {
      await runHook(phase, i, hook, o);
    } catch (err) {
      if (o.stopOnError || err instanceof CancelledError) throw err;
      failures.push(err instanceof BoError ? err : new BoError(errorMessage(err)));
    }
  }
  return failures;
}

/** What a job body tells the hooks: the snapshot is taken (runs the afterSnapshot hooks). */
export interface RunHooks {
  /**
   * Runs the afterSnapshot hooks (each once), all of them even when one fails; then rejects
   * like a before hook with the failure (or all of them, joined).
   */
  snapshotTaken(env?: Record<string, string | undefined>): Promise<void>;
}

/**
 * Wraps a job run in its hooks. A successful run whose after hook fails is reported as failed
 * (the message says the run itself succeeded); a failed run keeps its own error, and hook
 * failures on that path are logged. `preflight` runs before the before hooks: checks that need
 * no quiescing, so writers a before hook stops are not kept waiting for them. When it fails,
 * onError and after hooks run, afterSnapshot hooks do not (no before hook quiesced anything).
 */
export async function withHooks(
  cfg: HookConfig,
  o: { host: Host; env: Record<string, string | undefined>; log: Logger; signal: AbortSignal },
  body: (hooks: RunHooks) => Promise<JobRunResult>,
  preflight?: () => Promise<void>,
): Promise<JobRunResult> {
  const norm = (h: HookCommand[]) => normalizeHooks(h, cfg.hookTimeout);
  const [before, afterSnapshot, after, onError] = [
    norm(cfg.before),
    norm(cfg.afterSnapshot),
    norm(cfg.after),
    norm(cfg.onError),
  ];
  // afterSnapshot hooks below this index have run (ok or failed); a hook cut short by
  // cancellation is not counted, so it runs again at the end, and no hook runs twice.
  let snapshotNext = 0;
  /** Runs the afterSnapshot hooks not run yet, every one even when one fails (each resumes its own writer). */
  const runSnapshotHooks = async (ho: HookRunOptions): Promise<BoError[]> => {
    const failures: BoError[] = [];
    for (; snapshotNext < afterSnapshot.length; snapshotNext++) {
      try {
        await runHook('afterSnapshot', snapshotNext, afterSnapshot[snapshotNext]!, ho);
      } catch (err) {
        if (err instanceof CancelledError) throw err;
        failures.push(err instanceof BoError ? err : new BoError(errorMessage(err)));
      }
    }
    return failures;
  };
  const hooks: RunHooks = {
    async snapshotTaken(env = {}) {
      const failures = await runSnapshotHooks({ ...o, env: { ...o.env, ...env } });
      if (failures.length === 1) throw failures[0]!;
      if (failures.length > 1) throw new BoError(failures.map((f) => f.message).join('; '));
    },
  };
  if (before.length + afterSnapshot.length + after.length + onError.length === 0) {
    await preflight?.();
    return body(hooks);
  }

  let result: JobRunResult | undefined;
  let error: unknown;
  try {
    try {
      await preflight?.();
    } catch (err) {
      snapshotNext = afterSnapshot.length; // nothing quiesced yet: nothing to resume
      throw err;
    }
    await runHooks('before', before, { ...o, stopOnError: true });
    result = await body(hooks);
  } catch (err) {
    error = err;
  }
  const outcome = error === undefined ? 'ok' : failureOutcome(error, o.signal);
  // After a cancellation the run's signal is aborted: the last hooks run under their own timeouts.
  const signal = o.signal.aborted ? new AbortController().signal : o.signal;
  const env = {
    ...o.env,
    BO_OUTCOME: outcome,
    BO_ERROR: error === undefined ? undefined : errorMessage(error),
    BO_BACKUP_ID: result?.backupId,
  };
  const late: BoError[] = [];
  const last = { ...o, env, signal, stopOnError: false };
  try {
    late.push(...(await runSnapshotHooks(last)));
    if (error !== undefined) late.push(...(await runHooks('onError', onError, last)));
    late.push(...(await runHooks('after', after, last)));
  } catch (err) {
    // Cancelled while running the last hooks of a successful run.
    if (error === undefined) throw err;
  }
  if (error !== undefined) {
    for (const f of late) o.log.error({ err: f.message }, 'Hook failed after a failed run');
    throw error;
  }
  if (late.length > 0) {
    throw new BoError(
      `${late.map((f) => f.message).join('; ')} (the run itself succeeded: ${result!.summary})`,
    );
  }
  return result!;
}

function tail(stderr: string): string {
  const t = lastLines(stderr, 3);
  return t ? `: ${t}` : '';
}
