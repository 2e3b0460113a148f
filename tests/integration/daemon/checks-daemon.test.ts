/**
 * The real daemon runs scheduled verify and restore-drill jobs; `bo status` (asking it) shows
 * their outcomes and each backup job's "last proven restorable"; `bo run` goes through it.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../../src/daemon/status.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type DaemonProc, spawnDaemon } from './daemon-proc.ts';

describe('bo daemon runs verify and drill jobs on schedule', () => {
  let dir: string;
  let cfg: string;
  let d: DaemonProc | undefined;
  const bo = (...args: string[]) => runBo(['--config', cfg, ...args]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bo-daemon-checks-'));
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'alpha\n');
    await writeFile(join(src, 'sub', 'b.txt'), 'beta\n'.repeat(100));
    await mkdir(join(dir, 'scratch'));
    cfg = writeConfig(
      {
        stateDir: join(dir, 'state'),
        daemon: { socket: join(dir, 'bo.sock'), http: { enabled: false } },
        storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
        jobs: {
          files: { host: 'local', paths: [src], storage: 'repo' },
          checkup: { kind: 'verify', schedule: '*/2 * * * * *', jobs: ['files'] },
          proof: { kind: 'drill', schedule: '*/3 * * * * *', jobs: ['files'], to: join(dir, 'scratch') },
        },
      },
      dir,
    );
    const b = await bo('backup', 'now', 'files');
    expect(b.code, b.stderr).toBe(0);
  });
  afterAll(async () => {
    if (d && d.child.exitCode === null) {
      d.child.kill('SIGTERM');
      await d.exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('records both, and bo status --json shows their outcomes and the proof', async () => {
    d = await spawnDaemon(cfg);
    await d.waitFor((l) => l.msg === 'Run finished' && l.job === 'checkup', 30_000);
    await d.waitFor((l) => l.msg === 'Run finished' && l.job === 'proof', 30_000);

    const r = await bo('status', '--json');
    const report = JSON.parse(r.stdout) as StatusReport;
    expect(report.source).toBe('daemon');
    const job = (name: string) => report.jobs.find((j) => j.job === name)!;
    expect(job('checkup').lastRun).toMatchObject({
      kind: 'verify',
      trigger: 'schedule',
      outcome: 'ok',
      summary: 'checkup: verified 1 of 1 backup(s)',
    });
    expect(job('proof').lastRun).toMatchObject({
      kind: 'drill',
      trigger: 'schedule',
      outcome: 'ok',
      summary: 'proof: 1 of 1 job(s) proven restorable',
    });
    expect(job('files').drill?.proven).toMatchObject({ durationMs: expect.any(Number) });
    expect(await readdir(join(dir, 'scratch'))).toEqual([]); // every drill removed its copy

    const text = (await bo('status')).stdout;
    expect(text).toMatch(/^checkup\s+verify\s+-\s+.*verified 1 of 1 backup\(s\)/m);
    expect(text).toMatch(/^ {2}files\s+\d+s ago · drill took \d+s · backup \S+$/m);

    // bo run goes through the running daemon (it joins or queues a run there)
    const run = await bo('run', 'checkup', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      jobs: [{ job: 'checkup', kind: 'verify', outcome: 'ok' }],
    });

    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
  });
});
