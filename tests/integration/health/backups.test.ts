import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordCheck } from '../../../src/catalog/checks.ts';
import { openStateDb } from '../../../src/catalog/db.ts';
import { performHealth } from '../../../src/health/service.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import { silentLogger } from '../../../src/log.ts';
import { testConfig, testServices } from './env.ts';

const env = testConfig({});
afterAll(() => env.cleanup());

describe('backup status from the manifests in storage', () => {
  it('last good backup, size trend and verify evidence; a job without backups is crit', async () => {
    const data = join(env.dir, 'data');
    mkdirSync(data, { recursive: true });
    const cfg = testConfig({
      storage: { repo: { type: 'filesystem', path: join(env.dir, 'repo') } },
      jobs: {
        docs: { host: 'local', paths: [data], storage: 'repo', compression: 'none', schedule: '0 2 * * *' },
        never: { host: 'local', paths: [data], storage: 'repo', schedule: '0 3 * * *' },
      },
      health: { defaults: false, checks: [{ check: 'backup-freshness', verifyMaxAge: '7d' }] },
    });
    const services = testServices(cfg.config);
    try {
      const signal = new AbortController().signal;
      for (const size of [20_000, 100_000]) {
        writeFileSync(join(data, 'file.txt'), 'x'.repeat(size));
        await runJob('docs', cfg.config.jobs.docs!, {
          services,
          log: silentLogger(),
          signal,
          runId: crypto.randomUUID(),
        });
      }
      const db = openStateDb(cfg.config.stateDir);
      recordCheck(db, {
        kind: 'verify',
        storage: 'repo',
        job: 'docs',
        backupId: 'any',
        startedAt: new Date(Date.now() - 60_000).toISOString(),
        finishedAt: new Date(Date.now() - 30_000).toISOString(),
        durationMs: 30_000,
        outcome: 'ok',
      });
      db.close();

      const { report } = await performHealth(services, { log: silentLogger(), signal });
      const docs = report.backups.find((b) => b.job === 'docs')!;
      expect(docs).toMatchObject({ host: 'local', storage: 'repo', status: 'ok', count: 2 });
      expect(docs.sourceSizes).toHaveLength(2);
      expect(docs.trend).toBeGreaterThan(0.5);
      expect(docs.verified).toMatchObject({ lastOk: true, at: expect.any(String) });
      const result = report.hosts.find((h) => h.host === 'local')!.results;
      expect(result.find((r) => r.subject === 'docs')!.message).toMatch(
        /^docs: last backup \d+(\.\d)?m?s ago \(.+, 1 file\); verified \d+(\.\d)?m?s ago$/,
      );
      expect(result.find((r) => r.subject === 'never')).toMatchObject({
        status: 'crit',
        message: 'never: no backup in repo yet: run `bo backup now never` and check its log',
      });
    } finally {
      await services.close();
      cfg.cleanup();
    }
  });
});
