/**
 * Off a terminal (cron, `ssh host bo …`, scripts) results go to stdout and logs to stderr, for
 * every command: the real executable with pipes, at the default log level (info), so stderr
 * carries the pino log and stdout must carry the whole human result, or one JSON document.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';

/** Every non-empty line of `text` is a pino JSON line. */
function onlyJsonLogs(text: string): void {
  for (const line of text.split('\n').filter(Boolean)) {
    expect(() => JSON.parse(line), `not a JSON log line: ${line}`).not.toThrow();
    expect(JSON.parse(line)).toMatchObject({ app: 'bo', level: expect.any(Number) });
  }
}

describe('results on stdout, logs on stderr (no terminal)', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-streams-'));
  const src = join(work, 'src');
  const config = writeConfig({
    stateDir: join(work, 'state'),
    storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
    jobs: {
      tree: { host: 'local', paths: [src], storage: 'repo' },
      tidy: { kind: 'prune' },
      check: { kind: 'verify' },
    },
  });
  // The default level off a terminal (info), as under cron; BO_LOG_FORMAT unset.
  const bo = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runBo(['--config', config, ...args], { env: { BO_LOG_LEVEL: '', BO_LOG_FORMAT: '', ...env } });
  let backupId: string;

  beforeAll(() => {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('bo backup now: each job’s result line and the summary on stdout, JSON logs on stderr', async () => {
    const r = await bo(['backup', 'now', 'tree']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok {6}tree {2}(\S+) {2}1 files, .*\n1 backup\(s\) completed\n$/);
    backupId = /^ok {6}tree {2}(\S+)/.exec(r.stdout)![1]!;
    expect(r.stderr).not.toBe('');
    onlyJsonLogs(r.stderr);
    const j = await bo(['backup', 'now', 'tree', '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout).jobs[0]).toMatchObject({ job: 'tree', outcome: 'ok' });
    onlyJsonLogs(j.stderr);
  });

  it('bo backup now: a failed job’s line is a result too', async () => {
    const broken = writeConfig({
      stateDir: join(work, 'state2'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo2') } },
      jobs: { gone: { host: 'local', paths: [join(work, 'nope')], storage: 'repo' } },
    });
    const r = await runBo(['--config', broken, 'backup', 'now', 'gone'], { env: { BO_LOG_LEVEL: '' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^failed {2}gone {2}.*nope/);
    expect(r.stdout).toMatch(/0 completed, 1 did not: see above\n$/);
    onlyJsonLogs(r.stderr);
  });

  it('bo run: each job’s result line on stdout', async () => {
    const r = await bo(['run', 'tidy', 'check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok {6}tidy \(prune\) /m);
    expect(r.stdout).toMatch(/^ok {6}check \(verify\) /m);
    onlyJsonLogs(r.stderr);
  });

  it.each([
    ['list', /^BACKUP +HOST/],
    ['ls', /a\.txt$/m],
    ['status', /^JOB +KIND/],
    ['jobs', /^JOB +KIND/],
    ['locks', /^no locks held$/m],
    ['config check', /tree/],
    ['prune --dry-run', /dry run: nothing was deleted/],
    ['prune', /done: deleted 0 backup\(s\)/],
    ['verify', /backup\(s\) verified/],
    ['drill tree', /^ok {6}tree\/\S+ {2}restored 1 file/],
    ['restore', /^restored tree\/\S+ to .*all checksums verified/],
    ['report --out', /report written to /],
  ])('bo %s: the result on stdout, only JSON logs on stderr', async (cmd, result) => {
    const args = cmd.split(' ');
    if (cmd === 'ls') args.push(`tree/${backupId}`);
    if (cmd === 'restore') args.push('tree', '--to', join(work, 'restored'));
    if (cmd === 'report --out') args.push(join(work, 'report.md'));
    const r = await bo(args);
    expect(r.code, r.stderr).toBeLessThanOrEqual(1);
    expect(r.stdout).toMatch(result);
    onlyJsonLogs(r.stderr);
  });

  it.each([['list'], ['status'], ['jobs'], ['verify'], ['prune --dry-run'], ['config check'], ['locks']])(
    'bo %s --json: one JSON document on stdout',
    async (cmd) => {
      const r = await bo([...cmd.split(' '), '--json']);
      expect(r.code, r.stderr).toBeLessThanOrEqual(1);
      expect(() => JSON.parse(r.stdout)).not.toThrow();
      onlyJsonLogs(r.stderr);
    },
  );

  it('--log-format text (or BO_LOG_FORMAT=text) writes readable log lines for cron mail', async () => {
    for (const r of [
      await bo(['--log-format', 'text', 'backup', 'now', 'tree']),
      await bo(['backup', 'now', 'tree'], { BO_LOG_FORMAT: 'text' }),
    ]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ok {6}tree /);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(/^(trace|debug|info|warning|error|fatal): [A-Z]/);
      expect(r.stderr).toMatch(/^info: Backup committed .*job=tree/m);
    }
    const json = await bo(['--log-format=json', 'jobs'], { BO_LOG_FORMAT: 'text' });
    expect(json.code).toBe(0);
  });

  it('an unknown --log-format is a usage error naming the valid ones', async () => {
    const r = await bo(['--log-format', 'xml', 'jobs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bo: unknown log format "xml" (use one of json, text)\n');
    const env = await bo(['jobs'], { BO_LOG_FORMAT: 'yaml' });
    expect(env.code).toBe(2);
  });
});
