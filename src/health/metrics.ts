import { Gauge, type Registry } from 'prom-client';
import type { Report } from './report.ts';
import type { Status } from './types.ts';

const CODE: Record<Status, number> = { ok: 0, warn: 1, crit: 2, unknown: 3 };
const NAMES = [
  'bo_health_status',
  'bo_health_checks',
  'bo_health_report_timestamp_seconds',
  'bo_backup_last_success_timestamp_seconds',
  'bo_backup_size_bytes',
];

/**
 * Prometheus gauges computed from the latest report at scrape time (no state of their own):
 * bo_health_status{host,check,subject} (0 ok, 1 warn, 2 crit, 3 unknown),
 * bo_health_checks{status}, bo_health_report_timestamp_seconds,
 * bo_backup_last_success_timestamp_seconds{job} and bo_backup_size_bytes{job}.
 */
export function registerHealthMetrics(registry: Registry, getReport: () => Report | undefined): void {
  const registers = [registry];
  // Registering again (an HTTP server restarted on reload) replaces the gauges and their source.
  for (const name of NAMES) registry.removeSingleMetric(name);
  new Gauge({
    name: 'bo_health_status',
    help: 'Latest health check status: 0 ok, 1 warn, 2 crit, 3 unknown',
    labelNames: ['host', 'check', 'subject'],
    registers,
    collect() {
      this.reset();
      for (const h of getReport()?.hosts ?? []) {
        for (const r of h.results)
          this.set({ host: r.host, check: r.check, subject: r.subject }, CODE[r.status]);
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
  new Gauge({
    name: 'bo_backup_last_success_timestamp_seconds',
    help: 'Finish time of the newest backup of each job, from the manifests',
    labelNames: ['job'],
    registers,
    collect() {
      this.reset();
      for (const b of getReport()?.backups ?? [])
        if (b.lastGood) this.set({ job: b.job }, Date.parse(b.lastGood) / 1000);
    },
  });
  new Gauge({
    name: 'bo_backup_size_bytes',
    help: 'Archive size of the newest backup of each job',
    labelNames: ['job'],
    registers,
    collect() {
      this.reset();
      for (const b of getReport()?.backups ?? [])
        if (b.sizeBytes !== undefined) this.set({ job: b.job }, b.sizeBytes);
    },
  });
}
