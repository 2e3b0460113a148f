import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/archive/age/index.ts';
import type { StatusReport } from '../../../src/daemon/status.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';

/**
 * verify, drill and prune run by hand, as a user runs them (the real `bo`): one unreachable
 * storage fails only its jobs, every run lands in the history `bo status` shows, and a bad
 * drill target fails at once.
 */
describe('hand-run checks: isolation, history and bo status', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-cli-history-'));
  const src = join(work, 'src');
  const key = generateIdentity();
  let config: string;
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);
  const status = async () => JSON.parse((await bo('status', '--json')).stdout) as StatusReport;
  const job = (r: StatusReport, name: string) => r.jobs.find((j) => j.job === name)!;

  beforeAll(async () => {
    process.env.BO_TEST_DOWN_KEY = 'unused';
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    const local = { host: 'local', paths: [src], storage: 'repo', incremental: false };
    config = writeConfig({
      stateDir: join(work, 'state'),
      storage: {
        repo: { type: 'filesystem', path: join(work, 'repo') },
        // nothing listens on port 1: every request fails with "connection refused"
        down: {
          type: 's3',
          endpoint: 'http://127.0.0.1:1',
          bucket: 'gone',
          forcePathStyle: true,
          accessKeyId: { env: 'BO_TEST_DOWN_KEY' },
          secretAccessKey: { env: 'BO_TEST_DOWN_KEY' },
        },
      },
      jobs: {
        files: local,
        secret: { ...local, encryption: { recipients: [key.recipient] } },
        remote: { ...local, storage: 'down' },
        nightly: { kind: 'prune', schedule: '0 4 * * *' },
        weekly: { kind: 'verify', schedule: '0 5 * * 0', jobs: ['files', 'secret'] },
        monthly: { kind: 'drill', schedule: '0 6 1 * *', jobs: ['files'] },
      },
    });
    const b = await bo('backup', 'now', 'files', 'secret');
    expect(b.code, b.stderr).toBe(0);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('verify: an unreachable storage fails its job only, the rest is verified and summed up', async () => {
    const v = await bo('verify');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^ok\s+files\/\S+\s+full/m);
    expect(v.stdout).toMatch(/^ok\s+secret\/\S+\s+ciphertext/m);
    expect(v.stdout).toMatch(
      /^FAILED\s+remote\/latest\s+manifest\n\s+cannot list the backups: .*127\.0\.0\.1:1/m,
    );
    expect(v.stdout).toMatch(/^2 of 3 backup\(s\) verified, 1 FAILED$/m);
    // recorded as the configured verify job it covered, judged on that job's targets only
    const weekly = job(await status(), 'weekly');
    expect(weekly.lastRun).toMatchObject({ outcome: 'ok', trigger: 'manual' });
    expect(weekly.lastRun!.summary).toMatch(/verified 2 of 2 .*ciphertext only, no identity/);
    const text = await bo('status');
    expect(text.stdout).toMatch(
      /^weekly\s+verify\s+.*ok \d+s ago · \d+s · .* · verified 2 of 2 backup\(s\) \(encrypted backups: ciphertext only, no identity\)/m,
    );
  });

  it('verify/drill/prune name a non-backup job the same way', async () => {
    for (const cmd of ['verify', 'drill', 'prune']) {
      const r = await bo(cmd, 'nightly');
      expect(r.code, cmd).toBe(2);
      expect(r.stderr, cmd).toMatch(/job "nightly" is a prune job, not a backup job/);
    }
  });

  it('drill: a target on procfs fails at once and is recorded; a good drill is "last proven restorable"', async () => {
    const bad = await bo('drill', 'files', '--to', '/proc/nope');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /FAILED\s+files\/\S+\s+restore drill failed[\s\S]*cannot create the drill directory under \/proc\/nope: ENOENT/,
    );
    expect(job(await status(), 'monthly').lastRun).toMatchObject({ outcome: 'failed' });

    const good = await bo('drill', 'files', '--to', work);
    expect(good.code).toBe(0);
    const report = await status();
    expect(job(report, 'monthly').lastRun).toMatchObject({ outcome: 'ok', trigger: 'manual' });
    expect(job(report, 'files').drill?.proven).toMatchObject({ durationMs: expect.any(Number) });
    expect(job(report, 'files').drill?.lastFailed).toBeUndefined();
    const text = (await bo('status')).stdout;
    expect(text).toMatch(
      /^last proven restorable \(restore drill\):\n {2}files\s+\d+s ago · drill took \d+s · backup \S+$/m,
    );
    expect(text).toMatch(/^ {2}secret\s+never$/m);
  });

  it('drill: one that fails before it starts (storage down) is recorded as failed', async () => {
    const r = await bo('drill', 'remote');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED\s+remote\/latest/);
    expect(job(await status(), 'remote').drill?.lastFailed?.detail).toMatch(/127\.0\.0\.1:1/);
  });

  it('prune by hand is recorded as the prune job, and bo run runs any job with its configured options', async () => {
    const p = await bo('prune', 'files', 'secret');
    expect(p.code).toBe(0);
    expect(job(await status(), 'nightly').lastRun).toBeUndefined(); // nightly also prunes remote
    const run = await bo('run', 'weekly', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      jobs: [
        {
          job: 'weekly',
          kind: 'verify',
          outcome: 'ok',
          result: { summary: expect.stringMatching(/verified 2 of 2/) },
        },
      ],
    });
    const unknown = await bo('run', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown job "nope"/);
  });
});
