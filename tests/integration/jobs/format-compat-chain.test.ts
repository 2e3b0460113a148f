/**
 * Incremental chains written by an earlier bo (format version 2, tests/fixtures/repos/v2-chain,
 * never rewritten) restore exactly at every point with the current code, plain and encrypted.
 */
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/repos/v2-chain/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'bo-compat-chain-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('incremental chains written in format version 2', () => {
  cpSync(join(FIXTURE, 'repo'), join(work, 'repo'), { recursive: true });
  const config = writeConfig(
    {
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      jobs: {
        plain: { host: 'local', paths: ['/tmp/v2mk/src'], storage: 'repo' },
        sealed: { host: 'local', paths: ['/tmp/v2mk/src'], storage: 'repo' },
      },
    },
    work,
  );
  const bo = (...args: string[]) => runBo(['--config', config, ...args, '-i', join(FIXTURE, 'identity.txt')]);

  for (const job of ['plain', 'sealed']) {
    it(`${job}: every point of the chain restores exactly, and verifies`, async () => {
      const list = JSON.parse((await runBo(['--config', config, 'list', '--job', job, '--json'])).stdout) as {
        backups: Array<{ id: string; chain: { type: string; level: number } }>;
      };
      expect(list.backups.map((b) => `${b.chain.type} ${b.chain.level}`)).toEqual([
        'full 0',
        'incremental 1',
        'incremental 2',
      ]);
      for (const [i, b] of list.backups.entries()) {
        const target = join(work, `${job}-${i}`);
        const r = await bo('restore', job, '--backup', b.id, '--to', target);
        expect(r.code, r.stderr).toBe(0);
        const got = await snapshotTree(join(target, 'tmp/v2mk/src'));
        // A git checkout gives the fixture's sources the checkout time: mtimes are checked below.
        expect(diffTrees(await snapshotTree(join(FIXTURE, `source-${i}`)), got, { mtimes: false })).toEqual(
          [],
        );
      }
      expect(statSync(join(work, `${job}-2`, 'tmp/v2mk/src/docs/a.txt')).mtime.toISOString()).toBe(
        '2020-01-04T00:00:00.000Z',
      );
      const v = await bo('verify', job);
      expect(v.code, v.stdout + v.stderr).toBe(0);
    });
  }
});
