import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerHealthMetrics } from '../../../src/health/metrics.ts';
import { buildReport, type Report } from '../../../src/health/report.ts';
import { sampleRun } from '../../fixtures/health/sample-run.ts';

function report(): Report {
  const run = sampleRun();
  // A disk the fill-rate forecast made critical: hours to full against the forecast thresholds.
  run.hosts[1]!.results[0] = {
    ...run.hosts[1]!.results[0]!,
    value: 20.5,
    unit: 'hours',
    threshold: { warn: 72, crit: 24, below: true },
  };
  return buildReport(run);
}

describe('health metrics', () => {
  it('read the report once per scrape, and again on the next scrape', async () => {
    const registry = new Registry();
    let reads = 0;
    const r = report();
    registerHealthMetrics(registry, () => {
      reads++;
      return r;
    });
    await registry.metrics();
    expect(reads).toBe(1);
    await registry.metrics();
    expect(reads).toBe(2);
  });

  it('export the value and the thresholds that explain each status', async () => {
    const registry = new Registry();
    const r = report();
    registerHealthMetrics(registry, () => r);
    const text = await registry.metrics();
    expect(text).toContain('bo_health_status{host="files1",check="disk",subject="/srv"} 2');
    expect(text).toContain('bo_health_value{host="files1",check="disk",subject="/srv",unit="hours"} 20.5');
    expect(text).toContain(
      'bo_health_threshold{host="files1",check="disk",subject="/srv",level="crit",below="true"} 24',
    );
    expect(text).toContain(
      'bo_health_threshold{host="files1",check="disk",subject="/srv",level="warn",below="true"} 72',
    );
  });

  it('agree with `bo health` on unknown: the overall status is the exit code (3 when only unknown)', async () => {
    const registry = new Registry();
    const run = sampleRun();
    run.hosts = [{ ...run.hosts[1]!, results: run.hosts[1]!.results.filter((r) => r.status !== 'crit') }];
    const r = buildReport(run);
    registerHealthMetrics(registry, () => r);
    const text = await registry.metrics();
    expect(text).toContain('bo_health_status{host="files1",check="smart",subject=""} 3');
    expect(text).toContain('bo_health_overall_status 3');
  });
});
