import type { CheckName, HealthCheckSpec } from '../config/schema.ts';
import { BoError, CancelledError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Host } from '../remote/host.ts';
import { capture } from '../remote/run.ts';
import type { ActiveCheck, EvalContext, ProbeCheck, Sample } from './check.ts';
import { span } from './format.ts';
import { type HostPlan, LOCAL } from './plan.ts';
import { buildProbeScript, type ProbeSection, type SplitProbe, splitProbeOutput } from './probe.ts';
import { checkFor } from './registry.ts';
import type { CheckResult } from './types.ts';

/** All results for one host from one run. */
export interface HostHealth {
  host: string;
  address: string;
  roles: string[];
  /** False when SSH did not answer; probe checks are then absent (only `reachable: crit`). */
  reachable: boolean;
  durationMs: number;
  results: CheckResult[];
}

export interface HostRunDeps {
  host: Host;
  log: Logger;
  signal: AbortSignal;
  now: () => Date;
  /** Budget for the whole probe, connection included. */
  timeoutMs: number;
  /** Earlier samples of (check, subject) for this host, oldest first. */
  history: (check: CheckName, subject: string) => Sample[];
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/**
 * Checks one host: every probe check in one exec over the host's one connection, the network
 * checks from here at the same time. Never throws for a host problem: an unreachable host is a
 * `reachable: crit` result. Throws CancelledError only when `signal` aborts.
 */
export async function checkHost(plan: HostPlan, deps: HostRunDeps): Promise<HostHealth> {
  const started = Date.now();
  const probes = plan.specs.filter((s) => checkFor(s.check).type === 'probe');
  const actives = plan.specs.filter((s) => checkFor(s.check).type === 'active');
  const activeResults = Promise.all(actives.map((s) => runActive(s, plan, deps)));

  const { sections, specSection } = probeSections(probes);

  const probe = await runProbe(buildProbeScript(sections, Math.max(2, deps.timeoutMs / 3000)), deps);
  const results: CheckResult[] = [probe.reachable];
  if (probe.split) {
    const { split } = probe;
    const ctx = (check: CheckName): EvalContext => ({
      host: plan.host,
      now: deps.now(),
      history: (subject) => deps.history(check, subject),
      clockSkew: probe.skew,
    });
    for (const { spec, id } of specSection) {
      const out = split.sections.get(id);
      if (!out) {
        const why = probe.timedOut
          ? `the host's checks ran out of time (${span(deps.timeoutMs)})`
          : hungBefore(sections, id, split)
            ? 'not run: a check before it in the same `timeout` batch hung and used up the time'
            : 'no output';
        results.push({ host: plan.host, check: spec.check, subject: '', status: 'unknown', message: why });
        continue;
      }
      try {
        results.push(...(checkFor(spec.check) as ProbeCheck).evaluate(out, spec as never, ctx(spec.check)));
      } catch (err) {
        deps.log.error(
          { host: plan.host, check: spec.check, err },
          'Health check crashed (this is a bug, please report it)',
        );
        results.push({
          host: plan.host,
          check: spec.check,
          subject: '',
          status: 'unknown',
          message: `check failed: ${errorMessage(err)}`,
        });
      }
    }
  }
  results.push(...(await activeResults).flat());
  return {
    host: plan.host,
    address: plan.address,
    roles: plan.roles,
    reachable: probe.split !== undefined,
    durationMs: Date.now() - started,
    results,
  };
}

/** The probe specs of a host as script sections: checks with equal commands share one (disk and inodes). */
export function probeSections(probes: readonly HealthCheckSpec[]): {
  sections: ProbeSection[];
  specSection: Array<{ spec: HealthCheckSpec; id: string }>;
} {
  const sections: ProbeSection[] = [];
  const idOf = new Map<string, string>();
  const specSection = probes.map((spec) => {
    const check = checkFor(spec.check) as ProbeCheck;
    const command = check.command(spec as never);
    let id = idOf.get(command);
    if (!id) {
      id = `s${sections.length}`;
      idOf.set(command, id);
      sections.push({
        id,
        command,
        bounded: check.mayHang,
        guard: check.guard?.(spec as never),
        group: check.group,
        fallback: check.fallback?.(spec as never),
      });
    }
    return { spec, id };
  });
  return { sections, specSection };
}

/** True when a section of `id`'s group ran before it and was cut by the timeout. */
function hungBefore(sections: ProbeSection[], id: string, split: SplitProbe): boolean {
  const group = sections.find((s) => s.id === id)?.group;
  if (!group) return false;
  return sections.some(
    (s) =>
      s.group === group && s.id !== id && [null, 124, 137].includes(split.sections.get(s.id)?.code ?? -1),
  );
}

interface ProbeRun {
  reachable: CheckResult;
  split?: ReturnType<typeof splitProbeOutput>;
  skew?: { skewMs: number; uncertaintyMs: number };
  timedOut: boolean;
}

async function runProbe(script: string, deps: HostRunDeps): Promise<ProbeRun> {
  const name = deps.host.name;
  const timeout = AbortSignal.timeout(deps.timeoutMs);
  const signal = AbortSignal.any([deps.signal, timeout]);
  const t0 = Date.now();
  let t1: number | undefined;
  try {
    const proc = await deps.host.exec(script, { signal, idleTimeoutMs: deps.timeoutMs });
    proc.stdin.end();
    proc.stdout.once('data', () => {
      t1 ??= Date.now();
    });
    const [, stdout, stderr] = await Promise.all([
      proc.done.catch(() => undefined),
      capture(proc.stdout, MAX_OUTPUT),
      capture(proc.stderr, MAX_OUTPUT),
    ]);
    if (deps.signal.aborted) throw new CancelledError();
    if (t1 === undefined)
      throw timeout.aborted ? new Error('timeout') : new BoError('the probe printed nothing');
    const split = splitProbeOutput(stdout, stderr);
    const run: ProbeRun = {
      reachable: {
        host: name,
        check: 'reachable',
        subject: '',
        status: 'ok',
        value: t1 - t0,
        unit: 'ms',
        // "local" runs through a local shell, not SSH: say what actually answered.
        message: `${name === LOCAL ? 'the local shell' : 'SSH'} answered in ${t1 - t0}ms`,
      },
      split,
      timedOut: !split.complete && timeout.aborted,
    };
    if (split.hostTimeMs !== undefined) {
      run.skew = { skewMs: split.hostTimeMs - (t0 + t1) / 2, uncertaintyMs: (t1 - t0) / 2 + 1 };
    }
    return run;
  } catch (err) {
    if (deps.signal.aborted) throw new CancelledError();
    const message = timeout.aborted
      ? name === LOCAL
        ? `no answer from the local shell within ${span(deps.timeoutMs)}: is this machine overloaded?`
        : `no answer over SSH within ${span(deps.timeoutMs)}: host down, overloaded or firewalled?`
      : `${errorMessage(err)}${err instanceof BoError && err.hint ? ` (${err.hint})` : ''}`;
    deps.log.warn({ host: name, error: message }, 'Host unreachable');
    return {
      reachable: { host: name, check: 'reachable', subject: '', status: 'crit', message },
      timedOut: timeout.aborted,
    };
  }
}

async function runActive(spec: HealthCheckSpec, plan: HostPlan, deps: HostRunDeps): Promise<CheckResult[]> {
  const check = checkFor(spec.check) as ActiveCheck;
  try {
    return await check.run(spec as never, {
      host: plan.host,
      address: plan.address,
      now: deps.now(),
      signal: deps.signal,
    });
  } catch (err) {
    if (deps.signal.aborted) throw new CancelledError();
    deps.log.error(
      { host: plan.host, check: spec.check, err },
      'Health check crashed (this is a bug, please report it)',
    );
    return [
      {
        host: plan.host,
        check: spec.check,
        subject: '',
        status: 'unknown',
        message: `check failed: ${errorMessage(err)}`,
      },
    ];
  }
}
