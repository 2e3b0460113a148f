import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { plantBackup, plantedId } from '../../fixtures/plant.ts';
import type { CraftEntry } from '../../fixtures/tar-craft.ts';

/**
 * Someone who can write to the bucket can plant any archive, index and manifest (age
 * recipients are public keys, so encryption does not stop them). Restore must refuse
 * escapes whatever the index claims.
 */
describe('restore of a planted malicious backup', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-evil-'));
  const repo = join(work, 'repo');
  const config = writeConfig({
    stateDir: join(work, 'state'),
    storage: { repo: { type: 'filesystem', path: repo } },
    jobs: { victim: { host: 'local', paths: ['/srv'], storage: 'repo' } },
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const plant = (id: string, entries: CraftEntry[]) => plantBackup(repo, 'victim', id, entries);

  const outside = join(work, 'outside');
  const cases: Array<[string, CraftEntry[]]> = [
    ['dot-dot path', [{ path: '../../outside/evil', data: 'pwned' }]],
    ['absolute path', [{ path: `${outside}/evil`, data: 'pwned' }]],
    [
      'write through a symlink',
      [
        { path: 'srv/link', type: 'SymbolicLink', linkpath: outside },
        { path: 'srv/link/evil', data: 'pwned' },
      ],
    ],
    [
      'hardlink to a file outside',
      [{ path: 'srv/hard', type: 'Link', linkpath: '../../../../../../etc/passwd' }],
    ],
  ];

  it.each(cases)(
    'refuses %s, exits non-zero, and writes nothing outside the target',
    async (_label, entries) => {
      rmSync(outside, { recursive: true, force: true });
      mkdirSync(outside);
      const id = plantedId();
      plant(id, entries);
      const dest = join(work, `dest-${id}`);
      const r = await runBo(['--config', config, 'restore', `victim/${id}`, '--to', dest]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/restore FAILED/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(outside)).toEqual([]);
      expect(existsSync('/etc/passwd')).toBe(true);
    },
  );
});
