import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateDb } from '../../../src/catalog/db.ts';
import { currentOwner, finishRun, insertRun, type RunOutcome } from '../../../src/catalog/runs.ts';
import { renderHtml } from '../../../src/health/render/html.ts';
import { renderMarkdown } from '../../../src/health/render/markdown.ts';
import { performHealth } from '../../../src/health/service.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import { silentLogger } from '../../../src/log.ts';
import { testConfig, testServices } from './env.ts';

const env = testConfig({});
afterAll(() => env.cleanup());
const signal = new AbortController().signal;

/** A run as the daemon or `bo run` records it, finished `minutesAgo`. */
function recordRun(
  stateDir: string,
  run: { job: string; kind: string; outcome: RunOutcome; minutesAgo: number; error?: string },
): void {
  const db = openStateDb(stateDir);
  try {
    const at = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    const id = crypto.randomUUID();
    insertRun(
      db,
      { id, job: run.job, kind: run.kind, trigger: 'schedule', attempt: 1, queuedAt: at(run.minutesAgo + 1) },
      currentOwner(),
    );
    finishRun(db, id, {
      finishedAt: at(run.minutesAgo),
      outcome: run.outcome,
      ...(run.error ? { error: run.error } : {}),
    });
  } finally {
    db.close();
  }
}

describe('the report (page, markdown, JSON)', () => {
  it('lists backup jobs with health.defaults: false, shows failed verify, prune and drill runs, says "1 host"', async () => {
    const data = join(env.dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'a.txt'), 'alpha\n');
    const cfg = testConfig({
      storage: { repo: { type: 'filesystem', path: join(env.dir, 'repo') } },
      jobs: {
        docs: { host: 'local', paths: [data], storage: 'repo', schedule: '0 2 * * *' },
        check: { kind: 'verify', schedule: '0 4 * * *' },
        tidy: { kind: 'prune', schedule: '0 5 * * *' },
        rehearse: { kind: 'drill', schedule: '0 6 * * 0' },
      },
      health: { defaults: false, checks: [{ check: 'uptime', recentReboot: '1s' }] },
    });
    const services = testServices(cfg.config);
    try {
      await runJob('docs', cfg.config.jobs.docs!, {
        services,
        log: silentLogger(),
        signal,
        runId: crypto.randomUUID(),
      });
      const dir = cfg.config.stateDir;
      recordRun(dir, {
        job: 'check',
        kind: 'verify',
        outcome: 'failed',
        minutesAgo: 30,
        error: 'docs/x: archive checksum mismatch\nmore',
      });
      recordRun(dir, { job: 'tidy', kind: 'prune', outcome: 'ok', minutesAgo: 600 });
      recordRun(dir, {
        job: 'tidy',
        kind: 'prune',
        outcome: 'failed',
        minutesAgo: 20,
        error: 'storage repo: permission denied',
      });
      recordRun(dir, {
        job: 'rehearse',
        kind: 'drill',
        outcome: 'abandoned',
        minutesAgo: 10,
        error: 'bo stopped while the run was in progress',
      });
      recordRun(dir, {
        job: 'rehearse',
        kind: 'drill',
        outcome: 'failed',
        minutesAgo: 90,
        error: 'older failure',
      });

      const { report } = await performHealth(services, { log: silentLogger(), signal, report: 'daemon' });
      expect(report.summary.hosts).toBe(1);
      // No backup-freshness check applies, but the job and its backups are listed all the same.
      expect(report.backups).toHaveLength(1);
      expect(report.backups[0]).toMatchObject({ job: 'docs', count: 1, sourceBytes: 6 });
      expect(report.backups[0]!.message).toMatch(/no backup-freshness check/);
      expect(report.runs.map((r) => [r.job, r.kind, r.outcome])).toEqual([
        ['rehearse', 'drill', 'abandoned'],
        ['tidy', 'prune', 'failed'],
        ['check', 'verify', 'failed'],
      ]);
      expect(report.runs[1]!.lastOkAt).toBeDefined();
      expect(report.runs[2]!.lastOkAt).toBeUndefined();

      const md = renderMarkdown(report);
      expect(md).not.toContain('No backup jobs.');
      expect(md).toMatch(/^\| docs \| local \| UNKNOWN \|/m);
      expect(md).toMatch(/^## Failed runs \(3\)$/m);
      expect(md).toMatch(
        /^- \*\*FAILED\*\* check \(verify\) 30m ago: docs\/x: archive checksum mismatch; never succeeded$/m,
      );
      expect(md).toMatch(
        /^- \*\*FAILED\*\* tidy \(prune\) 20m ago: storage repo: permission denied; last success 10h ago$/m,
      );

      const html = renderHtml(report);
      expect(html).toContain('<h2>Failed runs</h2>');
      expect(html).toMatch(/check<\/span><span class="muted">verify<\/span>/);
      expect(html).toContain('ABANDONED');
      expect(html).toContain('<h2>Backups</h2>');
      expect(html).toContain('· 1 host</footer>');
      expect(html).not.toMatch(/\b1 hosts\b/);
    } finally {
      await services.close();
      cfg.cleanup();
    }
  });

  it('the daemon compares with its earliest health results until it has 24 hours of them', async () => {
    const raw = (warn: number, crit: number) => ({
      stateDir: join(env.dir, 'changes-state'),
      health: { defaults: false, checks: [{ check: 'disk', mounts: ['/'], warn, crit }] },
    });
    const ok = testConfig(raw(100, 100));
    const bad = testConfig(raw(0, 1));
    const first = await performHealth(testServices(ok.config), {
      log: silentLogger(),
      signal,
      report: 'daemon',
    });
    expect(first.report.changes.since).toBeUndefined();
    // A minute later (health jobs run every minute), the disk is critical: that is a change.
    const second = await performHealth(testServices(bad.config), {
      log: silentLogger(),
      signal,
      report: 'daemon',
    });
    expect(second.report.changes.since).toBe(first.report.generatedAt);
    expect(second.report.changes.items).toMatchObject([
      { host: 'local', check: 'disk', subject: '/', from: 'ok', to: 'crit' },
    ]);
    expect(renderHtml(second.report)).not.toContain('No earlier report to compare with');
    ok.cleanup();
    bad.cleanup();
  });
});
