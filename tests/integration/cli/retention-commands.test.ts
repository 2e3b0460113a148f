import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/archive/age/index.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';

/** prune, locks, verify and drill as a user runs them: the real `bo` executable. */
describe('bo prune / locks / verify / drill', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-cli-checks-'));
  const src = join(work, 'src');
  const repo = join(work, 'repo');
  const key = generateIdentity();
  let config: string;
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);

  beforeAll(async () => {
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'sub', 'b.txt'), 'beta\n'.repeat(100));
    config = writeConfig({
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs: {
        files: { host: 'local', paths: [src], storage: 'repo', incremental: false, retention: { last: 2 } },
        secret: {
          host: 'local',
          paths: [src],
          storage: 'repo',
          incremental: false,
          encryption: { recipients: [key.recipient] },
        },
        nightly: { kind: 'prune', schedule: '0 4 * * *', garbageAge: '12h' },
        weekly: { kind: 'verify', schedule: '0 5 * * 0', sample: '10%', jobs: ['files'] },
        monthly: { kind: 'drill', schedule: '0 6 1 * *', jobs: ['files'], sample: 50 },
      },
    });
    for (let i = 0; i < 3; i++) expect((await bo('backup', 'now', 'files')).code).toBe(0);
    expect((await bo('backup', 'now', 'secret')).code).toBe(0);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('accepts the new job kinds and retention in the config, and rejects an empty policy', async () => {
    expect((await bo('config', 'check')).code).toBe(0);
    const bad = writeConfig({
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs: {
        x: { host: 'local', paths: [src], storage: 'repo', retention: {} },
        v: { kind: 'verify', sample: '0%' },
      },
    });
    const r = await runBo(['--config', bad, 'config', 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/jobs\.x\.retention: give at least one rule/);
    expect(r.stderr).toMatch(/jobs\.v\.sample/);
  });

  it('prints the plan on --dry-run and deletes nothing; then deletes exactly it', async () => {
    const dry = await bo('prune', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      jobs: Array<{ job: string; rows: Array<{ id: string; action: string; reason: string }> }>;
    };
    expect(plan.dryRun).toBe(true);
    const files = plan.jobs.find((j) => j.job === 'files')!;
    expect(files.rows.map((r) => [r.action, r.reason])).toEqual([
      ['keep', 'last #1'],
      ['keep', 'last #2'],
      ['delete', 'no rule matched'],
    ]);
    expect(plan.jobs.find((j) => j.job === 'secret')!.rows.map((r) => r.reason)).toEqual([
      'no retention policy',
    ]);
    const listed = async () =>
      (
        JSON.parse((await bo('list', '--json', '--job', 'files')).stdout) as {
          backups: Array<{ id: string }>;
        }
      ).backups.map((b) => b.id);
    expect(await listed()).toHaveLength(3);

    const table = await bo('prune', 'files');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/no rule matched/);
    expect(table.stdout).toMatch(/done: deleted 1 backup\(s\)/);
    expect(await listed()).toEqual(
      files.rows
        .slice(0, 2)
        .map((r) => r.id)
        .reverse(),
    );

    const locks = JSON.parse((await bo('locks', '--all', '--json')).stdout) as {
      locks: Array<{ scope: string; status: string }>;
    };
    expect(locks.locks.map((l) => [l.scope, l.status])).toEqual([
      ['job/files', 'released'],
      ['job/secret', 'released'],
    ]);
    expect((await bo('locks')).stdout.trim()).toBe('no locks held');
  });

  it('verifies, says when only ciphertext was checked, and drills', async () => {
    const v = await bo('verify');
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/3 of 3 backup\(s\) verified/);
    expect(v.stdout).toMatch(/secret\/\S+\s+ciphertext/);
    expect(v.stdout).toMatch(/verified at the ciphertext level only/);
    const keyFile = join(work, 'key.txt');
    writeFileSync(keyFile, `${key.identity}\n`);
    const full = await bo('verify', 'secret', '--identity', keyFile, '--json');
    expect(JSON.parse(full.stdout)).toMatchObject({
      ciphertextOnly: false,
      backups: [{ status: 'ok', depth: 'full' }],
    });

    const d = await bo('drill', 'files');
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(
      /^ok\s+files\/\S+\s+restored 2 file\(s\).*proven restorable in .*scratch copy removed/,
    );
  });

  it('exits 1 and says so loudly when a backup is corrupted', async () => {
    const list = JSON.parse((await bo('list', '--json', '--job', 'files')).stdout) as {
      backups: Array<{ id: string }>;
    };
    const newest = list.backups.at(-1)!.id;
    const archive = join(repo, 'files', newest, 'archive.tar.zst');
    const data = readFileSync(archive);
    data[data.length >> 1]! ^= 0x01;
    writeFileSync(archive, data);

    const v = await bo('verify', 'files');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(
      new RegExp(`FAILED\\s+files/${newest}\\s+full\\n\\s+files/${newest}/archive.tar.zst is corrupted`),
    );
    const d = await bo('drill', 'files');
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/FAILED\s+files\/\S+\s+restore drill failed: NOT proven restorable/);
  });
});
