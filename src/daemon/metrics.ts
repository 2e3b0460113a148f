import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Scheduler } from './scheduler.ts';

/**
 * The scheduler's Prometheus metrics, next to the health ones on the daemon's /metrics:
 * bo_runs_total{job,kind,outcome}, bo_scheduled_starts_skipped_total{job} (overlap),
 * bo_run_start_lateness_seconds, and bo_runs_running / bo_runs_queued at scrape time.
 */
export function registerSchedulerMetrics(registry: Registry, scheduler: Scheduler): void {
  const registers = [registry];
  const runs = new Counter({
    name: 'bo_runs_total',
    help: 'Finished runs by job, kind and outcome (ok, failed, cancelled)',
    labelNames: ['job', 'kind', 'outcome'],
    registers,
  });
  const skipped = new Counter({
    name: 'bo_scheduled_starts_skipped_total',
    help: 'Scheduled starts skipped because the previous run of the job was still going',
    labelNames: ['job'],
    registers,
  });
  const lateness = new Histogram({
    name: 'bo_run_start_lateness_seconds',
    help: 'How long after its scheduled (or requested) time a run started: timer delay plus queueing',
    buckets: [0.01, 0.1, 1, 10, 60, 600, 3600],
    registers,
  });
  new Gauge({
    name: 'bo_runs_running',
    help: 'Runs in progress',
    registers,
    collect() {
      this.set(scheduler.snapshot().running);
    },
  });
  new Gauge({
    name: 'bo_runs_queued',
    help: 'Runs waiting for a free slot (global or per-host limit)',
    registers,
    collect() {
      this.set(scheduler.snapshot().queue.length);
    },
  });
  scheduler.subscribe((e) => {
    if (e.type === 'finished')
      runs.inc({ job: e.record.job, kind: e.record.kind, outcome: e.record.outcome ?? 'unknown' });
    else if (e.type === 'skipped') skipped.inc({ job: e.job });
    else if (e.type === 'started') lateness.observe(Math.max(0, e.lateMs) / 1000);
  });
}
