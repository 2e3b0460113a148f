/**
 * `bo restore --resume` after the restore was killed with SIGKILL half-way: the files already in
 * place are kept (not read again), the half-written one is cleaned up, the rest is restored, and
 * the tree is exact. Real bo, real files.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { compareTrees } from '../../fixtures/tree.ts';

const FILES = 1500;

/** Regular files restored under their real names so far. */
function restoredCount(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith('.bo-partial-')) continue;
      if (/^\d+$/.test(name)) walk(join(d, name));
      else n++;
    }
  };
  walk(dir);
  return n;
}

describe('restore --resume', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-resume-'));
  const src = join(work, 'src');
  const config = writeConfig(
    {
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      jobs: { data: { host: 'local', paths: [src], storage: 'repo', incremental: false, frameSize: '1MiB' } },
    },
    work,
  );
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);

  beforeAll(async () => {
    for (let d = 0; d < 15; d++) mkdirSync(join(src, String(d)), { recursive: true });
    for (let i = 0; i < FILES; i++)
      writeFileSync(join(src, String(i % 15), `f${i}.bin`), randomBytes(40_000));
    const r = await bo('backup', 'now', 'data');
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('continues a restore killed with SIGKILL half-way, keeping what is there and reading less', async () => {
    const dest = join(work, 'killed');
    const killedAt = await new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      runBo(['--config', config, 'restore', 'data', '--to', dest], {
        onSpawn: (_pid, kill) => {
          timer = setInterval(() => {
            const n = restoredCount(join(dest, src));
            if (n >= FILES / 4) {
              clearInterval(timer);
              kill('SIGKILL');
              resolve(n);
            }
          }, 5);
        },
      }).then((r) => {
        clearInterval(timer);
        if (r.signal !== 'SIGKILL')
          reject(new Error(`the restore ended before it was killed: ${r.code} ${r.stderr}`));
      }, reject);
    });
    expect(killedAt).toBeLessThan(FILES);

    const again = await bo('restore', 'data', '--to', dest, '--resume', '--json');
    expect(again.code, again.stderr).toBe(0);
    const out = JSON.parse(again.stdout) as { kept: number; files: number; read: { bytes: number } };
    expect(out.files).toBe(FILES);
    expect(out.kept).toBeGreaterThanOrEqual(killedAt - 1);
    expect(out.kept).toBeLessThan(FILES);
    expect(await compareTrees(src, join(dest, src), { owners: true })).toEqual([]);
    // Nothing half-written is left.
    expect(readdirSync(join(dest, src, '0')).filter((n) => n.startsWith('.bo-partial-'))).toEqual([]);

    // All in place: nothing but the index is read, and a file changed since is restored again.
    writeFileSync(join(dest, src, '3', 'f3.bin'), 'changed by hand');
    const third = await bo('restore', 'data', '--to', dest, '--resume', '--json');
    expect(third.code, third.stderr).toBe(0);
    const o3 = JSON.parse(third.stdout) as { kept: number; read: { bytes: number } };
    expect(o3.kept).toBe(FILES - 1);
    expect(o3.read.bytes).toBeLessThan(2_000_000);
    expect(await compareTrees(src, join(dest, src), { owners: true })).toEqual([]);
  }, 120_000);

  it('is only for local targets', async () => {
    writeFileSync(join(work, 'x'), '');
    const r = await bo('restore', 'data', '--to-host', `local:${join(work, 'remote')}`, '--resume');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--resume continues a restore into a local directory/);
  });
});
