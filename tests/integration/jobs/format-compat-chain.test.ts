/**
 * Incremental chains written by earlier bo versions (tests/fixtures/repos/v2-chain: format
 * version 2; v3: version 3, full archives in volumes, with a dump; never rewritten) restore
 * exactly at every point with the current code, plain and encrypted, and verify.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';

const work = mkdtempSync(join(tmpdir(), 'bo-compat-chain-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FIXTURE_SETS = [
  {
    version: 'v2-chain',
    src: '/tmp/v2mk/src',
    levels: ['full 0', 'incremental 1', 'incremental 2'],
    aTxtMtime: '2020-01-04T00:00:00.000Z',
    volumeSize: undefined,
    dumps: {} as Record<string, string>,
    emptyDirs: {} as Record<number, string[]>,
  },
  {
    version: 'v3',
    src: '/tmp/v3mk/src',
    levels: ['full 0', 'incremental 1'],
    aTxtMtime: '2020-01-04T00:00:00.000Z',
    volumeSize: '64KiB',
    dumps: { plain: 'app' } as Record<string, string>,
    // git keeps no empty directory: docs/sub lost old.txt at point 1 but stayed.
    emptyDirs: { 1: ['docs/sub'] } as Record<number, string[]>,
  },
];

describe.each(FIXTURE_SETS)('incremental chains written in format $version', (set) => {
  const fixture = fileURLToPath(new URL(`../../fixtures/repos/${set.version}/`, import.meta.url));
  const dir = join(work, set.version);
  cpSync(join(fixture, 'repo'), join(dir, 'repo'), { recursive: true });
  const repo = {
    type: 'filesystem',
    path: join(dir, 'repo'),
    ...(set.volumeSize ? { volumeSize: set.volumeSize } : {}),
  };
  const config = writeConfig(
    {
      stateDir: join(dir, 'state'),
      storage: { repo },
      jobs: {
        plain: { host: 'local', paths: [set.src], storage: 'repo' },
        sealed: { host: 'local', paths: [set.src], storage: 'repo' },
      },
    },
    mkdtempSync(join(work, 'cfg-')),
  );
  const bo = (...args: string[]) => runBo(['--config', config, ...args, '-i', join(fixture, 'identity.txt')]);

  for (const job of ['plain', 'sealed']) {
    it(`${job}: every point of the chain restores exactly, and verifies`, async () => {
      const list = JSON.parse((await runBo(['--config', config, 'list', '--job', job, '--json'])).stdout) as {
        backups: Array<{ id: string; chain: { type: string; level: number } }>;
      };
      expect(list.backups.map((b) => `${b.chain.type} ${b.chain.level}`)).toEqual(set.levels);
      for (const [i, b] of list.backups.entries()) {
        const target = join(dir, `${job}-${i}`);
        const r = await bo('restore', job, '--backup', b.id, '--to', target);
        expect(r.code, r.stderr).toBe(0);
        const got = await snapshotTree(join(target, set.src));
        // A git checkout gives the fixture's sources the checkout time: mtimes are checked below.
        const want = join(dir, `want-${job}-${i}`);
        cpSync(join(fixture, `source-${i}`), want, { recursive: true, verbatimSymlinks: true });
        for (const d of set.emptyDirs[i] ?? []) mkdirSync(join(want, d), { recursive: true });
        expect(diffTrees(await snapshotTree(want), got, { mtimes: false })).toEqual([]);
      }
      const last = join(dir, `${job}-${list.backups.length - 1}`, set.src.slice(1), 'docs/a.txt');
      expect(statSync(last).mtime.toISOString()).toBe(set.aTxtMtime);
      const v = await bo('verify', job);
      expect(v.code, v.stdout + v.stderr).toBe(0);
    });
  }

  for (const [job, dump] of Object.entries(set.dumps)) {
    it(`${job}: restores its ${dump} dump`, async () => {
      const r = await runBo(['--config', config, 'restore', job, '--dump', dump, '--to', '-']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('CREATE TABLE t');
    });
  }
});
