import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { missing } from '../../fixtures/require.ts';

/** A tmpfs of 2 MiB as the repository: it fills up while the archive streams. */
function mountTinyTmpfs(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a storage that fills up mid-archive', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-full-'));
  const repo = join(work, 'repo');
  let mounted = false;

  beforeAll(() => {
    mkdirSync(repo);
    mkdirSync(join(work, 'src'));
    // Incompressible, so the archive is larger than the repository.
    for (let i = 0; i < 8; i++) writeFileSync(join(work, 'src', `f${i}.bin`), randomBytes(1 << 20));
    mounted = mountTinyTmpfs(repo);
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [repo]);
    rmSync(work, { recursive: true, force: true });
  });

  it('fails the backup with the cause (not "cancelled") and leaves no backup', async ({ skip }) => {
    if (missing('mount -t tmpfs (root)', mounted, 'run the tests as root')) return skip();
    const config = writeConfig({
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs: { big: { host: 'local', paths: [join(work, 'src')], storage: 'repo', compression: 'none' } },
    });
    const r = await runBo(['--config', config, 'backup', 'now', 'big', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { jobs: Array<{ outcome: string; error: string }> };
    expect(out.jobs[0]).toMatchObject({ outcome: 'failed' });
    expect(out.jobs[0]!.error).toMatch(/disk full/);
    expect(r.stderr).not.toMatch(/bug/);
    const left = readdirSync(join(repo, 'big'), { recursive: true }).map(String);
    expect(left.filter((f) => f.endsWith('manifest.json') || f.includes('archive'))).toEqual([]);
  });
});
