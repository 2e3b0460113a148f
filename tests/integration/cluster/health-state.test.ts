/**
 * Health transition state and the alert outbox shared through PostgreSQL: a debounce that began
 * on one node completes on another, and an alert one node could not deliver is in the other's
 * outbox. Real PostgreSQL, real state databases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateDb, type StateDb } from '../../../src/catalog/db.ts';
import { importLatestReport, sharedHealthState } from '../../../src/cluster/health-state.ts';
import { createPool, type PgPool } from '../../../src/cluster/pg.ts';
import { migrateCluster } from '../../../src/cluster/schema.ts';
import { SecretValue } from '../../../src/config/secret.ts';
import { evaluateAlerts } from '../../../src/health/alerts.ts';
import { recordResults } from '../../../src/health/history.ts';
import { claimAlerts } from '../../../src/health/outbox.ts';
import { REPORT_FORMAT, REPORT_VERSION, type Report } from '../../../src/health/report.ts';
import { latestReport, saveReport } from '../../../src/health/report-store.ts';
import type { CheckResult } from '../../../src/health/types.ts';
import { type PostgresFixture, startPostgres } from '../../fixtures/postgres.ts';
import { freePort } from '../../fixtures/tcp-proxy.ts';

let pg: PostgresFixture | undefined;
let pool: PgPool;
let dir: string;

beforeAll(async () => {
  pg = startPostgres({ tcpPort: await freePort() });
  if (!pg) return;
  const url = new SecretValue(`postgres://postgres@127.0.0.1:${pg.tcpPort}/postgres`, 'test');
  pool = createPool(
    { type: 'postgres', url, schema: 'bo', leaseTimeout: 20_000, nodeTimeout: 30_000 },
    'test',
  );
  await migrateCluster(pool, 'bo');
  dir = mkdtempSync(join(tmpdir(), 'bo-health-state-'));
});
afterAll(async () => {
  await pool?.end();
  pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const crit: CheckResult = {
  host: 'files1',
  check: 'disk',
  subject: '/srv',
  status: 'crit',
  message: '/srv 97% used',
};
const policy = { debounce: 2, reminderMs: 0 };

describe('shared health state', () => {
  it('continues a debounce begun on another node, and hands over undelivered alerts', async () => {
    if (!pg) return;
    const shared = sharedHealthState(pool, 'bo');
    const a: StateDb = openStateDb(join(dir, 'a'));
    const b: StateDb = openStateDb(join(dir, 'b'));
    const t0 = Date.now();
    // Node a: ok, then a first crit (debounce 2: no alert yet).
    // As a health run does: record the results, then advance the alert states.
    const run = (db: StateDb, r: CheckResult, at: number) => {
      recordResults(db, [r], at);
      return evaluateAlerts(db, [r], at, policy, ['hook']);
    };
    let s = await shared.pull(a);
    run(a, { ...crit, status: 'ok', message: 'fine' }, t0);
    expect(run(a, crit, t0 + 1000)).toEqual([]);
    await s.push();
    // Node b: the second crit confirms the change begun on a.
    s = await shared.pull(b);
    const alerts = run(b, crit, t0 + 2000);
    expect(alerts.map((x) => [x.host, x.from, x.to])).toEqual([['files1', 'ok', 'crit']]);
    await s.push();
    // Not delivered by b (its receiver was down): node a finds it in its outbox.
    s = await shared.pull(a);
    const queued = claimAlerts(a, ['hook'], t0 + 3000);
    expect((queued.rows.get('hook') ?? []).map((r) => [r.alert.host, r.alert.to])).toEqual([
      ['files1', 'crit'],
    ]);
    await s.push();
    a.close();
    b.close();
  });

  it("hands the newest daemon report to every node's state database", async () => {
    if (!pg) return;
    const shared = sharedHealthState(pool, 'bo');
    const a = openStateDb(join(dir, 'ra'));
    const b = openStateDb(join(dir, 'rb'));
    const report = {
      format: REPORT_FORMAT,
      version: REPORT_VERSION,
      generatedAt: new Date().toISOString(),
      marker: 'from a',
    } as unknown as Report;
    const s = await shared.pull(a);
    saveReport(a, report, 'daemon');
    await s.push();
    expect(latestReport(b)).toBeUndefined();
    const at = await importLatestReport(pool, 'bo', b, 0);
    expect(at).toBe(Date.parse(report.generatedAt));
    expect(latestReport(b)).toMatchObject({ marker: 'from a' });
    // Nothing newer: nothing copied again.
    expect(await importLatestReport(pool, 'bo', b, at)).toBe(at);
    expect(b.prepare('SELECT count(*) AS n FROM health_reports').get()).toEqual({ n: 1 });
    a.close();
    b.close();
  });
});
