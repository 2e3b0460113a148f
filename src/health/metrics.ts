import { Gauge, type Registry } from 'prom-client';
import type { Report } from './report.ts';
import { type CheckResult, overallStatus, STATUS_CODE } from './types.ts';

const NAMES = [
  'bo_health_status',
  'bo_health_overall_status',
  'bo_health_value',
  'bo_health_threshold',
  'bo_health_checks',
  'bo_health_report_timestamp_seconds',
];

/**
 * Prometheus gauges computed from the latest report at scrape time (no state of their own):
 * bo_health_status{host,check,subject} (0 ok, 1 warn, 2 crit, 3 unknown: the codes `bo health`
 * exits with), bo_health_overall_status (the report's, by the same rule as the exit code), the measured
 * bo_health_value{host,check,subject,unit} and the bo_health_threshold{…,level} it was held
 * against (the disk forecast's hours when the forecast decided), bo_health_checks{status},
 * and bo_health_report_timestamp_seconds. The report is read once per scrape. (The bo_backup_*
 * and bo_job_* gauges come from the run history: daemon/job-metrics.ts.)
 */
export function registerHealthMetrics(registry: Registry, readReport: () => Report | undefined): void {
  const registers = [registry];
  const getReport = oncePerScrape(readReport);
  // Registering again (an HTTP server restarted on reload) replaces the gauges and their source.
  for (const name of NAMES) registry.removeSingleMetric(name);
  new Gauge({
    name: 'bo_health_status',
    help: 'Latest health check status: 0 ok, 1 warn, 2 crit, 3 unknown',
    labelNames: ['host', 'check', 'subject'],
    registers,
    collect() {
      this.reset();
      for (const r of results(getReport()))
        this.set({ host: r.host, check: r.check, subject: r.subject }, STATUS_CODE[r.status]);
    },
  });
  new Gauge({
    name: 'bo_health_overall_status',
    help: 'The latest health report as a whole, the code `bo health` exits with: 0 ok, 1 warn, 2 crit, 3 unknown',
    registers,
    collect() {
      this.reset();
      const s = getReport()?.summary;
      if (s) this.set(STATUS_CODE[overallStatus(s)]);
    },
  });
  new Gauge({
    name: 'bo_health_value',
    help: 'The value a health check measured, in its unit (%, hours, ms, days…)',
    labelNames: ['host', 'check', 'subject', 'unit'],
    registers,
    collect() {
      this.reset();
      for (const r of results(getReport()))
        if (r.value !== undefined)
          this.set({ host: r.host, check: r.check, subject: r.subject, unit: r.unit ?? '' }, r.value);
    },
  });
  new Gauge({
    name: 'bo_health_threshold',
    help: 'The warn/crit thresholds a health check value was held against (below="true": lower is worse)',
    labelNames: ['host', 'check', 'subject', 'level', 'below'],
    registers,
    collect() {
      this.reset();
      for (const r of results(getReport())) {
        const t = r.threshold;
        for (const level of ['warn', 'crit'] as const) {
          const v = t?.[level];
          if (v !== undefined)
            this.set(
              { host: r.host, check: r.check, subject: r.subject, level, below: String(t?.below === true) },
              v,
            );
        }
      }
    },
  });
  new Gauge({
    name: 'bo_health_checks',
    help: 'Health check results in the latest report, by status',
    labelNames: ['status'],
    registers,
    collect() {
      const s = getReport()?.summary;
      for (const status of ['ok', 'warn', 'crit', 'unknown'] as const)
        this.set({ status }, s ? s[status] : 0);
    },
  });
  new Gauge({
    name: 'bo_health_report_timestamp_seconds',
    help: 'When the latest health report was generated',
    registers,
    collect() {
      const r = getReport();
      if (r) this.set(Date.parse(r.generatedAt) / 1000);
    },
  });
}

function results(report: Report | undefined): CheckResult[] {
  return report?.hosts.flatMap((h) => h.results) ?? [];
}

/**
 * prom-client's registry.metrics() calls every gauge's get() (and so collect()) synchronously in
 * one loop before its first await, so one read serves the whole scrape; the cache is dropped in
 * the next microtask, and the next scrape reads the state database again.
 */
export function oncePerScrape<T>(read: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (!cached) {
      cached = { value: read() };
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}
