import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { compareTrees, makeFidelityTree } from '../../fixtures/tree.ts';

/** `host: local` goes through the same code path as SSH hosts, into filesystem storage. */
describe('backup and restore on the local host into a filesystem repository', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-local-'));
  const src = join(work, 'src');
  const repo = join(work, 'repo');
  let config: string;

  beforeAll(async () => {
    await import('node:fs/promises').then((f) => f.mkdir(src));
    await makeFidelityTree(src);
    config = writeConfig({
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs: { tree: { host: 'local', paths: [src], storage: 'repo' } },
    });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('backs up, lists, and restores a tree identical to the source', async () => {
    const b = await runBo(['--config', config, 'backup', 'now', 'tree', '--json']);
    expect(b.stderr).not.toMatch(/bug/);
    expect(b.code).toBe(0);
    const out = JSON.parse(b.stdout) as { jobs: Array<{ outcome: string; result: { backupId: string } }> };
    expect(out.jobs[0]!.outcome).toBe('ok');
    const id = out.jobs[0]!.result.backupId;

    const list = JSON.parse((await runBo(['--config', config, 'list', '--json'])).stdout) as {
      backups: Array<{ id: string }>;
    };
    expect(list.backups.map((x) => x.id)).toEqual([id]);
    const manifest = JSON.parse(readFileSync(join(repo, 'tree', id, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'bo-backup',
      version: 3,
      job: 'tree',
      host: 'local',
      paths: [src],
    });

    const dest = join(work, 'restored');
    const r = await runBo(['--config', config, 'restore', 'tree', '--to', dest]);
    // The tree's xattr cannot be set locally: bo says so, and says nothing else.
    expect(r.stderr.trim()).toMatch(
      /^(warning: 1 entry has extended attributes .* restore with --to-host to keep them)?$/,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/all checksums verified/);
    // Local extraction cannot set xattrs without a native addon; --to-host (server tar) does.
    expect(await compareTrees(src, join(dest, src), { sparse: true, owners: true })).toEqual([]);
  });

  it('restores a single path and refuses a non-empty target without --force', async () => {
    const dest = join(work, 'partial');
    const r = await runBo([
      '--config',
      config,
      'restore',
      'tree',
      '--path',
      join(src, 'modes'),
      '--to',
      dest,
    ]);
    expect(r.code).toBe(0);
    expect(readdirSync(join(dest, src))).toEqual(['modes']);
    const again = await runBo(['--config', config, 'restore', 'tree', '--to', dest]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not empty; pass --force/);
    const forced = await runBo(['--config', config, 'restore', 'tree', '--to', dest, '--force']);
    expect(forced.code).toBe(0);
  });

  it('fails a job whose path is missing, stores nothing, and still runs the other jobs', async () => {
    const cfg = writeConfig({
      storage: { repo: { type: 'filesystem', path: join(work, 'repo2') } },
      jobs: {
        broken: { host: 'local', paths: [join(work, 'does-not-exist')], storage: 'repo' },
        fine: { host: 'local', paths: [join(src, 'modes')], storage: 'repo' },
      },
      stateDir: join(work, 'state2'),
    });
    const r = await runBo(['--config', cfg, 'backup', 'now', '--all']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/does-not-exist.*(does not exist|no such)/i);
    expect(readdirSync(join(work, 'repo2')).filter((n) => n !== '_bo')).toEqual(['fine']); // _bo holds locks
  });

  it('rejects a broken config with exit 2, every problem listed, and nothing touched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bo-bad-'));
    const cfg = writeConfig(
      {
        storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
        jobs: {
          web1: { host: 'local', storage: 'rpeo' },
          x: { host: 'nowhere', paths: ['/x'], storage: 'repo', bogus: 1 },
        },
      },
      dir,
    );
    const r = await runBo(['--config', cfg, 'backup', 'now', '--all']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('jobs.web1.paths: required');
    expect(r.stderr).toContain('jobs.web1.storage: unknown storage "rpeo" (did you mean "repo"?)');
    expect(r.stderr).toContain('jobs.x.bogus: unknown key');
    expect(r.stderr).toContain('jobs.x.host: unknown host "nowhere"');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(dir)).toEqual(['bo.yaml']);
  });
});
