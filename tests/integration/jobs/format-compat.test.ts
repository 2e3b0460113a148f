/**
 * Every older backup format stays readable and restorable: backups written by earlier versions
 * of bo are kept as fixtures (tests/fixtures/repos/v<N>/, never rewritten) and restored, listed
 * and verified by the current code, plain and encrypted.
 */
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/repos/', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Each fixture's source path (the config that made it) and the dumps it holds. */
const FIXTURE_SETS = [
  {
    version: 'v1',
    src: '/tmp/v1mk/src',
    aTxtMtime: '2020-01-02T03:04:05.000Z',
    dumps: {} as Record<string, string>,
  },
  {
    version: 'v2',
    src: '/tmp/v2mk/src',
    aTxtMtime: '2026-12-05T00:55:23.071Z',
    dumps: { plain: 'app' } as Record<string, string>,
  },
];

describe.each(FIXTURE_SETS)('backups written in format $version', ({ version, src, aTxtMtime, dumps }) => {
  const fixture = join(FIXTURES, version);
  const work = mkdtempSync(join(tmpdir(), `bo-compat-${version}-`));
  dirs.push(work);
  // A copy: listing writes the catalog, and nothing may ever change the fixture itself.
  cpSync(join(fixture, 'repo'), join(work, 'repo'), { recursive: true });
  const config = writeConfig(
    {
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      jobs: {
        plain: { host: 'local', paths: [src], storage: 'repo' },
        sealed: { host: 'local', paths: [src], storage: 'repo' },
      },
    },
    work,
  );
  const identity = join(fixture, 'identity.txt');

  it('are listed', async () => {
    const r = await runBo(['-c', config, 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('plain');
    expect(r.stdout).toContain('sealed');
  });

  for (const job of ['plain', 'sealed']) {
    it(`${job}: restores exactly the tree that was backed up, and verifies`, async () => {
      const target = join(work, `restore-${job}`);
      const r = await runBo(['-c', config, 'restore', job, '--to', target, '-i', identity]);
      expect(r.code, r.stderr).toBe(0);
      const restored = await snapshotTree(join(target, src));
      // A git checkout gives the fixture's source files the checkout time: compare mtimes with
      // what the manifest's index recorded instead (the restore checks them against it).
      expect(diffTrees(await snapshotTree(join(fixture, 'source')), restored, { mtimes: false })).toEqual([]);
      expect(statSync(join(target, src, 'docs/a.txt')).mtime.toISOString()).toBe(aTxtMtime);
      const v = await runBo(['-c', config, 'verify', job, '-i', identity]);
      expect(v.code, v.stderr + v.stdout).toBe(0);
    });
  }

  for (const [job, dump] of Object.entries(dumps)) {
    it(`${job}: restores its ${dump} dump`, async () => {
      const r = await runBo(['-c', config, 'restore', job, '--dump', dump, '--to', '-']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('CREATE TABLE t');
    });
  }
});
