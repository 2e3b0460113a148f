/**
 * `bo list` over two filesystem storages holding the same job's backups, one with a gap in an
 * incremental chain: one row per backup naming every storage that holds it, and BROKEN as the
 * storage the row was first listed from sees the chain.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fabricatedManifest } from '../../../bench/lib/manifests.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Backups 0..4 of one chain (a full and four incrementals), but for the ones in `gap`. */
function repo(dir: string, gap: number[], orphan?: number): void {
  const end = Date.parse('2026-01-10T12:00:00Z');
  for (let i = 0; i < 5; i++) {
    if (gap.includes(i)) continue;
    const m = fabricatedManifest('files1', i, 5, end);
    if (i === orphan && m.chain) m.chain.parent = null; // an incremental without a recorded parent
    mkdirSync(join(dir, 'files1', m.id), { recursive: true });
    writeFileSync(join(dir, 'files1', m.id, 'manifest.json'), JSON.stringify(m));
  }
}

describe('bo list over several storages', () => {
  it('names every storage holding a backup and marks BROKEN as the first storage sees it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bo-list-storages-'));
    dirs.push(dir);
    repo(join(dir, 'a'), [2]);
    repo(join(dir, 'b'), [], 1);
    const cfg = writeConfig({
      stateDir: join(dir, 'state'),
      storage: {
        a: { type: 'filesystem', path: join(dir, 'a') },
        b: { type: 'filesystem', path: join(dir, 'b') },
      },
      jobs: { files1: { host: 'local', paths: ['/srv'], storage: 'a', schedule: '0 * * * *' } },
    });
    const r = await runBo(['--config', cfg, 'list', '--full', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.stdout) as { backups: Array<Record<string, unknown>> }).backups;
    const ids = (i: number) => fabricatedManifest('files1', i, 5, Date.parse('2026-01-10T12:00:00Z')).id;
    expect(rows.map((b) => [b.id, b.storages, b.chainBroken ?? false])).toEqual([
      [ids(0), ['a', 'b'], false],
      [ids(1), ['a', 'b'], false], // broken in b, but listed from a
      [ids(3), ['a', 'b'], true],
      [ids(4), ['a', 'b'], true],
      [ids(2), ['b'], true],
    ]);
    const table = await runBo(['--config', cfg, 'list', '--full']);
    expect(table.stdout).toMatch(new RegExp(`files1/${ids(4)} .* incr 4 BROKEN .* a, b`));
    expect(table.stdout).toMatch(new RegExp(`files1/${ids(2)} .* incr 2 BROKEN .* b`)); // its ancestor 1 in b
    const onlyB = await runBo(['--config', cfg, 'list', '--full', '--storage', 'b', '--json']);
    const inB = (JSON.parse(onlyB.stdout) as { backups: Array<Record<string, unknown>> }).backups;
    expect(inB.map((b) => b.chainBroken ?? false)).toEqual([false, true, true, true, true]);
  });
});
