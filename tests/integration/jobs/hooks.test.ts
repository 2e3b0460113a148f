import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../../src/catalog/backups.ts';
import { readIndex } from '../../../src/catalog/objects.ts';
import { systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { CancelledError } from '../../../src/errors.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import { silentLogger } from '../../../src/log.ts';
import { createServices, type Services } from '../../../src/services.ts';
import { until } from '../../fixtures/until.ts';

/** before / afterSnapshot / after / onError hooks of real backup runs on the local host, into filesystem storage. */
describe('job hooks', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-hooks-'));
  const src = join(work, 'src');
  const log = join(work, 'hooks.log');
  let services: Services;
  const record = (what: string) =>
    `echo "${what} $BO_PHASE $BO_JOB \${BO_OUTCOME:-} \${BO_BACKUP_ID:+id}" >> ${log}`;

  beforeAll(() => {
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'a\n');
    const config = parseResolved(Config, {
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      jobs: {
        ordered: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          before: [record('b1'), record('b2')],
          after: [record('a1'), { command: record('a2'), timeout: '10s' }],
          onError: [record('e1')],
        },
        badBefore: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          before: [record('b1'), 'echo "database is busy" >&2; exit 4', record('never')],
          after: [record('a1')],
          onError: [`${record('e1')}; echo "$BO_ERROR" >> ${log}`],
        },
        slow: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          before: [`echo $$ > ${join(work, 'slow.pid')}; exec sleep 30`],
          hookTimeout: '1s',
          after: [record('a1')],
        },
        failing: {
          host: 'local',
          paths: [join(work, 'missing')],
          storage: 'repo',
          after: [record('a1')],
          onError: [record('e1')],
        },
        badAfter: { host: 'local', paths: [src], storage: 'repo', after: ['exit 9', record('a2')] },
        quiesce: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          before: [record('b1')],
          dumps: [{ type: 'command', name: 'app', command: `${record('dump')}; echo 'SELECT 1;'` }],
          // Runs after the dump, before tar: the file it writes is in the archive.
          afterSnapshot: [record('s1'), `echo resumed > ${join(src, 'resumed.txt')}`],
          after: [record('a1')],
        },
        quiesceFails: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          before: [record('b1'), 'exit 3'],
          afterSnapshot: [record('s1')],
          onError: [record('e1')],
          after: [record('a1')],
        },
        badResume: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          // Each resumes its own service: the second still runs when the first fails.
          afterSnapshot: ['echo "cannot start app" >&2; exit 5', record('s2')],
          onError: [record('e1')],
          after: [record('a1')],
        },
        badResumes: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          afterSnapshot: ['exit 5', record('s2'), 'exit 6'],
          after: [record('a1')],
        },
        cancelResume: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          // The second hook is cancelled the first time; at the end it runs again, the first does not.
          afterSnapshot: [
            record('s1'),
            `if [ -e ${join(work, 'resume.started')} ]; then ${record('s2')}; else touch ${join(work, 'resume.started')}; sleep 30; fi`,
          ],
          onError: [record('e1')],
          after: [record('a1')],
        },
        cancel: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          before: [`touch ${join(work, 'cancel.started')}; sleep 30`],
          after: [record('a1')],
          onError: [record('e1')],
        },
      },
    });
    services = createServices({ config, log: silentLogger(), clock: systemClock });
  });
  afterAll(async () => {
    await services.close();
    rmSync(work, { recursive: true, force: true });
  });

  function run(job: string, signal = new AbortController().signal) {
    writeFileSync(log, '');
    return runJob(job, services.config.jobs[job]!, {
      services,
      log: silentLogger(),
      signal,
      runId: randomUUID(),
    });
  }
  const lines = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  const backups = async (job: string) => (await listBackups(services.storage('repo'), { job })).backups;

  it('runs before hooks, the backup, then after hooks, in order, with the run in BO_ variables', async () => {
    const r = await run('ordered');
    expect(r.backupId).toBeDefined();
    expect(lines()).toEqual([
      'b1 before ordered  ',
      'b2 before ordered  ',
      'a1 after ordered ok id',
      'a2 after ordered ok id',
    ]);
    expect(await backups('ordered')).toHaveLength(1);
  });

  it('a failing before hook aborts the run before anything is stored; onError and after still run', async () => {
    await expect(run('badBefore')).rejects.toThrow(
      /before hook #2 \(echo "database is busy" .*\) failed on local \(exit 4\): database is busy/,
    );
    expect(lines()).toEqual([
      'b1 before badBefore  ',
      'e1 onError badBefore failed ',
      expect.stringMatching(/^before hook #2 .* failed on local \(exit 4\): database is busy$/),
      'a1 after badBefore failed ',
    ]);
    expect(await backups('badBefore')).toEqual([]);
  });

  it('kills a hook that overruns its timeout and fails the run', async () => {
    await expect(run('slow')).rejects.toThrow(
      /before hook #1 .* timed out after 1\.0s on local and was killed/,
    );
    const pid = Number(readFileSync(join(work, 'slow.pid'), 'utf8'));
    expect(alive(pid)).toBe(false);
    expect(lines()).toEqual(['a1 after slow failed ']);
    expect(await backups('slow')).toEqual([]);
  });

  it('runs onError and after hooks when the backup itself fails', async () => {
    await expect(run('failing')).rejects.toThrow(/does not exist/);
    expect(lines()).toEqual(['e1 onError failing failed ', 'a1 after failing failed ']);
  });

  it('reports a failing after hook, says the backup was committed, and still runs the next after hook', async () => {
    await expect(run('badAfter')).rejects.toThrow(
      /after hook #1 \(exit 9\) failed on local \(exit 9\) \(the run itself succeeded: badAfter: backup \S+/,
    );
    expect(lines()).toEqual(['a2 after badAfter ok id']);
    expect(await backups('badAfter')).toHaveLength(1);
  });

  it('runs afterSnapshot hooks after the dumps and before tar reads, once', async () => {
    const r = await run('quiesce');
    expect(lines()).toEqual([
      'b1 before quiesce  ',
      'dump    ',
      's1 afterSnapshot quiesce  ',
      'a1 after quiesce ok id',
    ]);
    const [b] = await backups('quiesce');
    expect(b!.id).toBe(r.backupId);
    const index = await readIndex(services.storage('repo'), b!, undefined);
    expect(index.some((e) => e.path === join(src, 'resumed.txt').slice(1))).toBe(true);
    rmSync(join(src, 'resumed.txt'));
  });

  it('runs afterSnapshot hooks at the end, before onError, when the run fails before the snapshot', async () => {
    await expect(run('quiesceFails')).rejects.toThrow(/before hook #2 \(exit 3\) failed/);
    expect(lines()).toEqual([
      'b1 before quiesceFails  ',
      's1 afterSnapshot quiesceFails failed ',
      'e1 onError quiesceFails failed ',
      'a1 after quiesceFails failed ',
    ]);
  });

  it('a failing afterSnapshot hook fails the run before tar, stores nothing; the next hooks still run, none twice', async () => {
    await expect(run('badResume')).rejects.toThrow(
      /afterSnapshot hook #1 .* failed on local \(exit 5\): cannot start app/,
    );
    expect(lines()).toEqual([
      's2 afterSnapshot badResume  ',
      'e1 onError badResume failed ',
      'a1 after badResume failed ',
    ]);
    expect(await backups('badResume')).toEqual([]);
  });

  it('reports every failing afterSnapshot hook, after running all of them', async () => {
    const err = await run('badResumes').catch((e: unknown) => e);
    expect(String(err)).toMatch(
      /afterSnapshot hook #1 \(exit 5\) failed on local \(exit 5\); afterSnapshot hook #3 \(exit 6\) failed on local \(exit 6\)/,
    );
    expect(lines()).toEqual(['s2 afterSnapshot badResumes  ', 'a1 after badResumes failed ']);
    expect(await backups('badResumes')).toEqual([]);
  });

  it('a cancelled afterSnapshot hook runs again at the end; the ones that finished do not', async () => {
    const ac = new AbortController();
    const running = run('cancelResume', ac.signal);
    expect(await until(() => existsSync(join(work, 'resume.started')))).toBe(true);
    ac.abort();
    await expect(running).rejects.toThrow(CancelledError);
    expect(lines()).toEqual([
      's1 afterSnapshot cancelResume  ',
      's2 afterSnapshot cancelResume cancelled ',
      'e1 onError cancelResume cancelled ',
      'a1 after cancelResume cancelled ',
    ]);
    expect(await backups('cancelResume')).toEqual([]);
  });

  it('still runs onError and after hooks when the run is cancelled', async () => {
    const ac = new AbortController();
    const running = run('cancel', ac.signal);
    expect(await until(() => existsSync(join(work, 'cancel.started')))).toBe(true);
    ac.abort();
    await expect(running).rejects.toThrow(CancelledError);
    expect(lines()).toEqual(['e1 onError cancel cancelled ', 'a1 after cancel cancelled ']);
    expect(await backups('cancel')).toEqual([]);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
