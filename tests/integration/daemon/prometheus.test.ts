/**
 * The daemon's /metrics as Prometheus sees it: a real `bo daemon` (no health job at all) and a
 * real Prometheus scraping it on loopback, queried through its HTTP API; `promtool check
 * metrics` on the exposition.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import {
  eventually,
  type PrometheusFixture,
  prometheusMissing,
  promtoolCheck,
  startPrometheus,
} from '../../fixtures/prometheus.ts';
import { type DaemonProc, spawnDaemon } from './daemon-proc.ts';

let skipped: string | undefined;
const work = mkdtempSync(join(tmpdir(), 'bo-prometheus-test-'));
let daemon: DaemonProc | undefined;
let prometheus: PrometheusFixture | undefined;

beforeAll(() => {
  skipped = prometheusMissing();
});
afterAll(async () => {
  await prometheus?.stop();
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('/metrics scraped by a real Prometheus', () => {
  // Generous: Prometheus starts, scrapes every second and answers within 120 s even on a busy machine.
  it('backup, verify, prune and drill successes come from the run history, with no health job; promtool accepts the exposition', {
    timeout: 300_000,
  }, async ({ skip }) => {
    if (skipped) return skip();
    const src = join(work, 'src');
    const repo = join(work, 'repo');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'alpha\n'.repeat(1000));
    writeFileSync(join(src, 'b.bin'), Buffer.alloc(100_000, 7));
    const cfg = writeConfig({
      stateDir: join(work, 'state'),
      daemon: { socket: join(work, 'bo.sock'), http: { enabled: true, listen: '127.0.0.1:0' } },
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs: {
        tree: { host: 'local', paths: [src], storage: 'repo' },
        check: { kind: 'verify' },
        tidy: { kind: 'prune' },
        rehearse: { kind: 'drill' },
      },
    });
    daemon = await spawnDaemon(cfg);
    const page = new URL(String((await daemon.waitFor((l) => l.msg === 'HTTP status page listening')).url));

    // Through the daemon, as an operator would; the second backup is the newest.
    for (const args of [
      ['backup', 'now', 'tree'],
      ['backup', 'now', 'tree'],
      ['run', 'check', 'tidy', 'rehearse'],
    ]) {
      const r = await runBo(['--config', cfg, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      // Through the daemon too, the result line names both sizes.
      if (args[0] === 'backup')
        expect(`${r.stdout}${r.stderr}`).toMatch(/ \d+ files, source \S+ \S+, stored \S+ \S+, /);
    }
    const ids = readdirSync(join(repo, 'tree')).sort();
    const manifest = JSON.parse(readFileSync(join(repo, 'tree', ids.at(-1)!, 'manifest.json'), 'utf8'));
    const stored =
      manifest.archive.size +
      manifest.index.size +
      manifest.dumps.reduce((n: number, d: { object: { size: number } }) => n + d.object.size, 0);

    const exposition = await (await fetch(new URL('metrics', page))).text();
    const lint = promtoolCheck(exposition);
    expect(lint, exposition).toEqual({ code: 0, output: '' });

    prometheus = await startPrometheus(page.host);
    const one = async (promql: string) => {
      const result = await prometheus!.query(promql);
      return result.length > 0 ? result : undefined;
    };
    await eventually('Prometheus scraping the daemon', () => one('up{job="bo"} == 1'));
    const [last] = await eventually('bo_backup_last_success_timestamp_seconds in Prometheus', () =>
      one('bo_backup_last_success_timestamp_seconds'),
    );
    expect(last!.metric).toMatchObject({ __name__: 'bo_backup_last_success_timestamp_seconds', job: 'tree' });
    // The run finishes just after its manifest: the same backup, seconds apart at most.
    expect(Math.abs(Number(last!.value[1]) - Date.parse(manifest.finishedAt) / 1000)).toBeLessThan(30);

    const value = async (promql: string) =>
      Number((await eventually(promql, () => one(promql)))[0]!.value[1]);
    expect(await value('bo_backup_source_bytes{job="tree"}')).toBe(manifest.stats.bytes);
    expect(await value('bo_backup_stored_bytes{job="tree"}')).toBe(stored);
    for (const [job, kind] of [
      ['tree', 'backup'],
      ['check', 'verify'],
      ['tidy', 'prune'],
      ['rehearse', 'drill'],
    ]) {
      const at = await value(`bo_job_last_success_timestamp_seconds{job="${job}",kind="${kind}"}`);
      expect(at).toBeGreaterThan(Date.now() / 1000 - 3600);
      expect(
        await value(`bo_job_last_success_duration_seconds{job="${job}",kind="${kind}"}`),
      ).toBeGreaterThanOrEqual(0);
    }
    // Staleness alert rules are written against this: it must evaluate.
    expect(
      await value('time() - bo_backup_last_success_timestamp_seconds{job="tree"} < 3600'),
    ).toBeGreaterThanOrEqual(0);
  });
});
