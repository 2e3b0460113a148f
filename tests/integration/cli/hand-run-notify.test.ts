import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type HttpReceiver, startHttpReceiver } from '../../fixtures/health/http-receiver.ts';

/**
 * Every way a job runs goes through one door that records it and sends its lifecycle pings:
 * `bo prune`, `bo verify` and `bo drill` run by hand stand for the configured jobs they covered,
 * and each of those gets its start and success (or fail) ping, as a scheduled run would.
 */
describe('hand-run prune, verify and drill send the covered jobs’ lifecycle notifications', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-hand-notify-'));
  const src = join(work, 'src');
  let pings: HttpReceiver;
  let config: string;
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);
  /** The pings since `from`, as "job/event". */
  const since = (from: number) =>
    pings.requests.slice(from).map((r) => r.url.replace(/^\/ping\//, '').replace(/\?.*/, ''));

  beforeAll(async () => {
    pings = await startHttpReceiver();
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    const hc = (name: string) => ({ type: 'healthchecks', url: `${pings.url}/ping/${name}` });
    config = writeConfig({
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      notify: { files: hc('files'), nightly: hc('nightly'), weekly: hc('weekly'), monthly: hc('monthly') },
      jobs: {
        files: { host: 'local', paths: [src], storage: 'repo', notify: ['files'] },
        nightly: { kind: 'prune', schedule: '0 4 * * *', notify: ['nightly'] },
        weekly: { kind: 'verify', schedule: '0 5 * * 0', notify: ['weekly'] },
        monthly: { kind: 'drill', schedule: '0 6 1 * *', notify: ['monthly'] },
      },
    });
    const b = await bo('backup', 'now', 'files');
    expect(b.code, b.stderr).toBe(0);
    expect(since(0)).toEqual(['files/start', 'files']);
  });
  afterAll(async () => {
    await pings.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('bo verify: start and success of the verify job', async () => {
    const from = pings.requests.length;
    const r = await bo('verify');
    expect(r.code, r.stderr).toBe(0);
    expect(since(from)).toEqual(['weekly/start', 'weekly']);
  });

  it('bo prune: start and success of the prune job', async () => {
    const from = pings.requests.length;
    const r = await bo('prune');
    expect(r.code, r.stderr).toBe(0);
    expect(since(from)).toEqual(['nightly/start', 'nightly']);
  });

  it('bo drill that fails: start and fail of the drill job, with the reason', async () => {
    const from = pings.requests.length;
    const r = await bo('drill', 'files', '--to', '/proc/nope');
    expect(r.code).toBe(1);
    expect(since(from)).toEqual(['monthly/start', 'monthly/fail']);
    expect(pings.requests.at(-1)!.body).toMatch(/proc\/nope/);
  });
});
