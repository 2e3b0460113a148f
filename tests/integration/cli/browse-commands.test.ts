import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { plantBackup, plantedId } from '../../fixtures/plant.ts';

const NO_STACK = /\n\s+at /;

/**
 * bo list / ls / restore against filesystem storage (and one S3 storage nobody listens on),
 * through the real executable: failure isolation, fresh machines, bad paths, odd names,
 * corrupted objects.
 */
describe('list, ls and restore from the command line', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-browse-'));
  const repo = join(work, 'repo');
  const src = join(work, 'src');
  const planted = plantedId();
  const down = {
    type: 's3',
    endpoint: 'http://127.0.0.1:1',
    region: 'us-east-1',
    bucket: 'nowhere',
    forcePathStyle: true,
    accessKeyId: { env: 'BO_TEST_DOWN_KEY' },
    secretAccessKey: { env: 'BO_TEST_DOWN_KEY' },
  };
  const storage = { repo: { type: 'filesystem', path: repo } };
  const jobs = {
    tree: { host: 'local', paths: [src], storage: 'repo', compression: 'zstd' },
    odd: { host: 'local', paths: ['/srv'], storage: 'repo' },
  };
  const config = writeConfig({ stateDir: join(work, 'state'), storage, jobs });
  /** The same storage, and one that is down, on a machine that knows no jobs. */
  const fresh = writeConfig({ stateDir: join(work, 'fresh'), storage: { ...storage, down } });
  const bo = (args: string[], cfg = config) =>
    runBo(['--config', cfg, ...args], { env: { BO_TEST_DOWN_KEY: 'x' } });
  let treeId: string;

  beforeAll(async () => {
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'sub/b.txt'), 'beta\n'.repeat(50_000));
    const r = await bo(['backup', 'now', 'tree', '--json']);
    expect(r.code, r.stderr).toBe(0);
    treeId = (JSON.parse(r.stdout) as { jobs: Array<{ result: { backupId: string } }> }).jobs[0]!.result
      .backupId;
    plantBackup(repo, 'odd', planted, [
      { path: 'srv/', type: 'Directory' },
      { path: 'srv/line\nbreak', data: 'x' },
      { path: 'srv/\x1b[31mred', data: 'y' },
    ]);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('bo list lists the storage that answers, reports the one that does not, exits 1', async () => {
    const r = await bo(['list'], fresh);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`tree/${treeId}`);
    expect(r.stderr).toMatch(/error: cannot list storage down: /);
    expect(r.stderr).not.toMatch(NO_STACK);
    const j = await bo(['list', '--json'], fresh);
    expect(j.code).toBe(1);
    const out = JSON.parse(j.stdout) as { backups: unknown[]; failed: Array<{ storage: string }> };
    expect(out.failed).toEqual([{ storage: 'down', error: expect.any(String) }]);
    expect(out.backups.length).toBeGreaterThanOrEqual(1);
  });

  it('bo list --job says when nothing matched', async () => {
    const r = await bo(['list', '--job', 'nosuch']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('no backups match --job nosuch');
  });

  it('bo restore JOB and bo ls JOB find a job that only storage knows (fresh machine)', async () => {
    const dest = join(work, 'fresh-restore');
    const r = await bo(['restore', 'tree', '--to', dest], fresh);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dest, src, 'a.txt'), 'utf8')).toBe('alpha\n');
    const ls = await bo(['ls', 'tree', join(src, 'sub')], fresh);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/sub\/b\.txt/);
    const none = await bo(['restore', 'tree', '--backup', 'nope', '--to', join(work, 'x')], fresh);
    expect(none.code).toBe(1); // storage "down" might have it
    expect(none.stderr).toMatch(/cannot search storage down: /);
    const onlyRepo = writeConfig({ stateDir: join(work, 'fresh2'), storage });
    const gone = await bo(['restore', 'tree', '--backup', 'nope', '--to', join(work, 'x')], onlyRepo);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/job tree has no backup nope/);
  });

  it('bo ls BACKUP PATH fails for a path the backup does not have', async () => {
    const r = await bo(['ls', `tree/${treeId}`, '/missing']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/path \/missing is not in backup tree\//);
  });

  it('bo ls escapes control characters in names', async () => {
    const r = await bo(['ls', `odd/${planted}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('/srv/line\\nbreak');
    expect(r.stdout).toContain('/srv/\\x1b[31mred');
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('a corrupted or truncated index fails ls and restore with a clear integrity error', async () => {
    const file = join(repo, 'tree', treeId, 'index.jsonl.zst');
    const original = readFileSync(file);
    try {
      const flipped = Buffer.from(original);
      flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
      for (const [bytes, why] of [
        [flipped, /index tree\/.*\/index\.jsonl\.zst is corrupted: SHA-256 [0-9a-f]+ does not match/],
        [original.subarray(0, original.length - 7), /index tree\/.*\/index\.jsonl\.zst is truncated/],
      ] as const) {
        writeFileSync(file, bytes);
        for (const args of [
          ['ls', `tree/${treeId}`],
          ['restore', `tree/${treeId}`, '--to', join(work, `idx-${bytes.length}`)],
        ]) {
          const r = await bo(args);
          expect(r.code).toBe(1);
          expect(r.stderr).toMatch(why);
          expect(r.stderr).not.toMatch(/this is a bug/);
          expect(r.stderr).not.toMatch(NO_STACK);
        }
      }
    } finally {
      writeFileSync(file, original);
    }
  });

  it('a corrupted or truncated unencrypted archive fails the restore loudly', async () => {
    const file = join(repo, 'tree', treeId, 'archive.tar.zst');
    const original = readFileSync(file);
    try {
      const flipped = Buffer.from(original);
      flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
      for (const bytes of [flipped, original.subarray(0, original.length - 100)]) {
        writeFileSync(file, bytes);
        const r = await bo(['restore', `tree/${treeId}`, '--to', join(work, `arc-${bytes.length}`)]);
        expect(r.code).toBe(1);
        // Where the flip lands decides which check sees it first: the tar reader (a header's
        // checksum), zstd, or the SHA-256 of a file or of the whole object.
        expect(r.stderr).toMatch(/restore FAILED: .*(corrupt|truncated|does not match)/);
        expect(r.stderr).toMatch(/must not be trusted/);
        expect(r.stderr).not.toMatch(NO_STACK);
      }
    } finally {
      writeFileSync(file, original);
    }
  });
});
