import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../../src/jobs/registry.ts';
import { manualRun, runRecorded } from '../../../src/jobs/run-recorded.ts';
import { silentLogger } from '../../../src/log.ts';
import { startHttpReceiver } from '../../fixtures/health/http-receiver.ts';
import { startSmtpServer } from '../../fixtures/health/smtp-server.ts';
import { deadPort, silentServer, testConfig, testServices } from './env.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A service we can stop and start on a fixed port: the thing the tcp check watches. */
async function flappingService(): Promise<{ port: number; up(): Promise<void>; down(): Promise<void> }> {
  let srv: Server | undefined;
  const start = (port: number) =>
    new Promise<number>((resolve) => {
      srv = createServer((s) => {
        s.on('error', () => {});
        s.end('220 ok\r\n');
      });
      srv.listen(port, '127.0.0.1', () => resolve((srv!.address() as { port: number }).port));
    });
  const port = await start(0);
  const down = () => new Promise<void>((r) => (srv ? srv.close(() => r()) : r()));
  cleanups.push(down);
  return { port, up: async () => void (await start(port)), down };
}

describe('alerts on transitions', () => {
  it('the webhook gets exactly one alert per transition, the SMTP sink the same alerts as mail, pings bracket each run', async () => {
    const hook = await startHttpReceiver();
    const pings = await startHttpReceiver();
    const smtp = await startSmtpServer();
    const svc = await flappingService();
    cleanups.push(
      () => hook.close(),
      () => pings.close(),
      () => smtp.close(),
    );
    const env = testConfig({
      health: {
        defaults: false,
        debounce: 1,
        reminder: 0,
        notify: ['hook', 'slack', 'mail'],
        checks: [{ check: 'tcp', hosts: ['local'], port: svc.port, banner: '^220', timeout: '2s' }],
      },
      notify: {
        hook: { type: 'webhook', url: `${hook.url}/bo` },
        slack: { type: 'webhook', url: `${hook.url}/slack`, format: 'slack', events: ['health'] },
        mail: {
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          from: 'bo@example.org',
          to: ['oncall@example.org'],
        },
        hc: { type: 'healthchecks', url: `${pings.url}/ping/abc` },
      },
      jobs: { fleet: { kind: 'health', hosts: ['local'], notify: ['hc'] } },
    });
    cleanups.push(env.cleanup);
    const services = testServices(env.config);
    cleanups.push(() => services.close());
    // Through the run door, which sends the job's start/success pings.
    const runFleet = async () => {
      const job = env.config.jobs.fleet!;
      const deps = {
        services,
        log: silentLogger(),
        signal: new AbortController().signal,
        history: undefined,
      };
      const r = await runRecorded(manualRun('fleet', job, new Date()), job, deps);
      return { runId: r.id, summary: r.summary ?? r.error ?? '' };
    };

    const seq: string[] = [];
    seq.push((await runFleet()).summary); // ok: silent
    await svc.down();
    seq.push((await runFleet()).summary); // ok → crit: one alert
    seq.push((await runFleet()).summary); // still crit: nothing
    await svc.up();
    const last = await runFleet(); // crit → ok: one recovery
    seq.push(last.summary);
    seq.push((await runFleet()).summary); // ok: nothing

    expect(seq).toEqual([
      'all 2 checks ok on 1 host',
      '1 crit on 1 host; 1 alert(s)',
      '1 crit on 1 host',
      'all 2 checks ok on 1 host; 1 alert(s)',
      'all 2 checks ok on 1 host',
    ]);
    const json = hook.requests.filter((r) => r.url === '/bo').map((r) => JSON.parse(r.body));
    expect(json.map((b) => `${b.key} ${b.from}→${b.to}`)).toEqual([
      `local/tcp/${svc.port} ok→crit`,
      `local/tcp/${svc.port} crit→ok`,
    ]);
    expect(json[0]).toMatchObject({
      source: 'bo',
      type: 'health',
      kind: 'change',
      host: 'local',
      check: 'tcp',
      status: 'crit',
      message: expect.stringMatching(/connection refused/),
    });
    const slack = hook.requests.filter((r) => r.url === '/slack').map((r) => JSON.parse(r.body).text);
    expect(slack).toEqual([
      expect.stringMatching(
        new RegExp(
          `^:red_circle: CRIT local tcp ${svc.port}: 127\\.0\\.0\\.1:${svc.port}: connection refused`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^:large_green_circle: RECOVERED \\(was crit\\) local tcp ${svc.port}: 127\\.0\\.0\\.1:${svc.port}: 220 ok`,
        ),
      ),
    ]);

    const mails = await smtp.waitFor(2);
    expect(mails).toHaveLength(2);
    expect(mails[0]!.to).toEqual(['<oncall@example.org>']);
    expect(mails[0]!.data).toMatch(new RegExp(`^Subject: \\[bo\\] CRIT local tcp ${svc.port}$`, 'm'));
    expect(mails[0]!.data).toMatch(/^Auto-Submitted: auto-generated$/m);
    expect(mails[1]!.data).toMatch(/Subject: \[bo\] RECOVERED \(was crit\) local tcp/);

    // healthchecks: start then success for each of the five runs, paired by rid.
    expect(pings.requests.map((r) => r.url.replace(/\?rid=.*/, ''))).toEqual(
      Array(5).fill(['/ping/abc/start', '/ping/abc']).flat(),
    );
    expect(pings.requests.slice(6, 8).map((r) => r.url)).toEqual([
      `/ping/abc/start?rid=${last.runId}`,
      `/ping/abc?rid=${last.runId}`,
    ]);
    expect(pings.requests[7]!.body).toMatch(
      /^health job fleet succeeded after .*: all 2 checks ok on 1 host; 1 alert\(s\)$/,
    );
  });

  it('cancelling a health run stops a delivery to a receiver that never answers', async () => {
    const hung = await silentServer();
    const svc = await flappingService();
    cleanups.push(() => hung.close());
    const env = testConfig({
      health: {
        defaults: false,
        debounce: 1,
        reminder: 0,
        notify: ['hook'],
        checks: [{ check: 'tcp', hosts: ['local'], port: svc.port, timeout: '2s' }],
      },
      notify: { hook: { type: 'webhook', url: `http://127.0.0.1:${hung.port}/bo`, timeout: '30s' } },
      jobs: { fleet: { kind: 'health', hosts: ['local'] } },
    });
    cleanups.push(env.cleanup);
    const services = testServices(env.config);
    cleanups.push(() => services.close());
    await svc.down();
    const ac = new AbortController();
    const run = runJob('fleet', env.config.jobs.fleet!, {
      services,
      log: silentLogger(),
      signal: ac.signal,
      runId: crypto.randomUUID(),
    }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 1500)); // the check is done; the webhook hangs
    const t0 = Date.now();
    ac.abort();
    await run;
    // Three 30 s attempts if the signal did not reach the notifier.
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 30_000);

  it('a receiver that is down keeps its alerts in the outbox; once up, each arrives exactly once, batched for slack', async () => {
    const hook = await startHttpReceiver();
    const port = Number(new URL(hook.url).port);
    await hook.close(); // down: connection refused on a port we know is ours and closed
    const svcA = await flappingService();
    const svcB = await flappingService();
    const env = testConfig({
      health: {
        defaults: false,
        debounce: 1,
        reminder: 0,
        notify: ['hook', 'slack'],
        checks: [svcA.port, svcB.port].map((p) => ({
          check: 'tcp',
          hosts: ['local'],
          port: p,
          timeout: '2s',
        })),
      },
      notify: {
        hook: { type: 'webhook', url: `${hook.url}/bo` },
        slack: { type: 'webhook', url: `${hook.url}/slack`, format: 'slack' },
      },
      jobs: { fleet: { kind: 'health', hosts: ['local'] } },
    });
    cleanups.push(env.cleanup);
    const services = testServices(env.config);
    cleanups.push(() => services.close());
    const runFleet = async () =>
      (
        await runJob('fleet', env.config.jobs.fleet!, {
          services,
          log: silentLogger(),
          signal: new AbortController().signal,
          runId: crypto.randomUUID(),
        })
      ).summary;

    await svcA.down();
    await svcB.down();
    // Two alerts, two notifiers: four deliveries, none possible.
    expect(await runFleet()).toBe('2 crit on 1 host; 2 alert(s); 4 undelivered, kept for the next run');
    expect(await runFleet()).toBe('2 crit on 1 host; 4 undelivered, kept for the next run');
    const back = await startHttpReceiver(port);
    cleanups.push(() => back.close());
    await svcA.up();
    // The recovery of A joins the queue behind the two old alerts: oldest first.
    expect(await runFleet()).toBe('1 crit on 1 host; 1 alert(s); 4 delayed alert(s) delivered');
    expect(await runFleet()).toBe('1 crit on 1 host');

    // Within a run, alerts follow the report's order (worst first, then by subject: port number).
    const [lo, hi] = [svcA.port, svcB.port].sort((a, b) => a - b);
    const json = back.requests.filter((r) => r.url === '/bo').map((r) => JSON.parse(r.body));
    expect(json.map((b) => `${b.key} ${b.from}→${b.to}`)).toEqual([
      `local/tcp/${lo} ok→crit`,
      `local/tcp/${hi} ok→crit`,
      `local/tcp/${svcA.port} crit→ok`,
    ]);
    // Slack: one message for the whole run, a line per alert, worst first.
    const slack = back.requests.filter((r) => r.url === '/slack').map((r) => JSON.parse(r.body).text);
    expect(slack).toHaveLength(1);
    expect(slack[0]!.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^:red_circle: CRIT local tcp ${lo}: `)),
      expect.stringMatching(new RegExp(`^:red_circle: CRIT local tcp ${hi}: `)),
      expect.stringMatching(
        new RegExp(`^:large_green_circle: RECOVERED \\(was crit\\) local tcp ${svcA.port}: `),
      ),
    ]);
  }, 60_000);

  it('a failing job pings /fail and mails its error; a dead notifier never breaks the job', async () => {
    const pings = await startHttpReceiver();
    const smtp = await startSmtpServer();
    // Bound and released by this test: nothing listens there (port 9 may be taken on some machines).
    const closed = await deadPort();
    const repo = mkdtempSync(join(tmpdir(), 'bo-alerts-repo-'));
    cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
    cleanups.push(
      () => pings.close(),
      () => smtp.close(),
    );
    const env = testConfig({
      // The job fails on its missing path; the storage lives in the test's own dir.
      storage: { s: { type: 'filesystem', path: repo } },
      notify: {
        hc: { type: 'healthchecks', url: `${pings.url}/ping/job` },
        mail: {
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          from: 'bo@example.org',
          to: ['oncall@example.org'],
        },
        gone: { type: 'webhook', url: `http://127.0.0.1:${closed}/unreachable` },
      },
      jobs: {
        broken: {
          host: 'local',
          paths: ['/nonexistent/path/for/bo'],
          storage: 's',
          notify: ['hc', 'mail', 'gone'],
        },
      },
    });
    cleanups.push(env.cleanup);
    const services = testServices(env.config);
    cleanups.push(() => services.close());
    const job = env.config.jobs.broken!;
    const deps = { services, log: silentLogger(), signal: new AbortController().signal, history: undefined };
    const run = await runRecorded(manualRun('broken', job, new Date()), job, deps);
    expect(run.outcome).toBe('failed');
    expect(pings.requests.map((r) => r.url.replace(/\?.*/, ''))).toEqual([
      '/ping/job/start',
      '/ping/job/fail',
    ]);
    expect(pings.requests[1]!.body).toContain(run.error);
    const [mail] = await smtp.waitFor(1);
    expect(mail!.data).toMatch(/Subject: \[bo\] backup job broken on local FAILED/);
  }, 90_000);
});
