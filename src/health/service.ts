import { openStateDb, type StateDb } from '../catalog/db.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import { type AlertDelivery, deliverAlerts, evaluateAlerts } from './alerts.ts';
import { historyReader, pruneHistory, recordResults } from './history.ts';
import { type HealthSelection, planHealth } from './plan.ts';
import { proofReader } from './proofs.ts';
import { buildReport, type Report } from './report.ts';
import { previousStatuses, type ReportOrigin, saveReport } from './report-store.ts';
import { allResults, type HealthRun, runHealth } from './run.ts';
import { readRunHistory } from './snapshots.ts';
import type { Transition } from './transitions.ts';

export interface PerformHealthOptions {
  log: Logger;
  signal: AbortSignal;
  select?: HealthSelection;
  /** Advance the alert state machine and notify `health.notify` (the health job does; the CLI does not). */
  alerts?: boolean;
  /** Store the report under this origin, with changes since the previous one. */
  report?: ReportOrigin;
  /**
   * Hands the report over (writes the file) before it is stored: when this throws, the report
   * is not stored (the next `bo report` still compares with the last one delivered) and the
   * error propagates. The history and alert states are recorded either way.
   */
  deliver?: (report: Report) => void;
}

/**
 * Health state kept outside this machine (a cluster's, cluster/health-state.ts): `pull` brings
 * the shared alert states and outbox into the state database before a run; the `push` it returns
 * writes them back after it.
 */
export interface SharedHealthState {
  pull(db: StateDb): Promise<{ push(): Promise<void> }>;
}

export interface HealthOutcome {
  run: HealthRun;
  report: Report;
  transitions: Transition[];
  /** False when the state database could not be opened: nothing recorded, no forecasts or changes. */
  recorded: boolean;
  /** What the alert outbox did (runs with `alerts` and a state database). */
  delivery?: AlertDelivery | undefined;
}

/**
 * A health run with its bookkeeping: plan, run, record the history, alert on transitions, build
 * (and store) the report. Shared by `bo health`, `bo report` and the health job. The state
 * database is optional: when it cannot be opened (a CLI user without access to stateDir) the
 * checks still run and print.
 */
export async function performHealth(services: Services, opts: PerformHealthOptions): Promise<HealthOutcome> {
  const { config, clock } = services;
  const plan = planHealth(config, opts.select);
  const db = openOptional(config.stateDir, opts.log);
  const shared = db && opts.alerts && services.healthState ? await services.healthState.pull(db) : undefined;
  try {
    const run = await runHealth(plan, {
      config,
      log: opts.log,
      clock,
      signal: opts.signal,
      host: (name) => services.host(name),
      storage: (name) => services.storage(name),
      history: db ? historyReader(db) : undefined,
      proofs: db ? proofReader(db) : undefined,
      runs: db ? () => readRunHistory(db) : undefined,
    });
    const results = allResults(run);
    const now = Date.parse(run.finishedAt);
    let transitions: Transition[] = [];
    let report: Report;
    if (db) {
      const previous = opts.report ? previousStatuses(db, opts.report, results, now) : undefined;
      recordResults(db, results, now);
      if (opts.alerts) {
        transitions = evaluateAlerts(
          db,
          results,
          now,
          { debounce: config.health.debounce, reminderMs: config.health.reminder },
          config.health.notify,
        );
      }
      report = buildReport(run, previous);
      pruneHistory(db, now, config.health.history);
      opts.deliver?.(report);
      if (opts.report) saveReport(db, report, opts.report);
    } else {
      report = buildReport(run);
      opts.deliver?.(report);
    }
    for (const t of transitions)
      opts.log.info(
        { host: t.host, check: t.check, subject: t.subject, from: t.from, to: t.to, changeKind: t.kind },
        'Health state changed',
      );
    // Every alerting run drains the outbox, also when it has no alerts of its own.
    const delivery =
      db && opts.alerts
        ? await deliverAlerts(
            db,
            config,
            { summary: report.summary.line, at: now },
            { log: opts.log, clock, signal: opts.signal },
          )
        : undefined;
    return { run, report, transitions, recorded: db !== undefined, delivery };
  } finally {
    await shared?.push();
    db?.close();
  }
}

function openOptional(stateDir: string, log: Logger): StateDb | undefined {
  try {
    return openStateDb(stateDir);
  } catch (err) {
    log.warn(
      { stateDir, error: errorMessage(err) },
      'State database unavailable; health results are not recorded',
    );
    return undefined;
  }
}
