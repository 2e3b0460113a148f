import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../../src/catalog/backups.ts';
import { silentLogger } from '../../../src/log.ts';
import { createFsStorage } from '../../../src/storage/fs.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { deleteBackupByHand, linkChain } from '../jobs/chain-env.ts';

/** `bo prune` and `bo verify` as a user reads them when a job has incremental chains. */
describe('bo prune and bo verify with incremental chains', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-cli-chains-'));
  const src = join(work, 'src');
  const repo = join(work, 'repo');
  const storage = createFsStorage('repo', { type: 'filesystem', path: repo }, { log: silentLogger() });
  let config: string;
  let ids: string[];
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);

  beforeAll(async () => {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    config = writeConfig({
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs: { files: { host: 'local', paths: [src], storage: 'repo', retention: { last: 1 } } },
    });
    for (let i = 0; i < 5; i++) expect((await bo('backup', 'now', 'files')).code).toBe(0);
    ids = (await listBackups(storage, { job: 'files' })).backups.map((b) => b.id);
    await linkChain(storage, 'files', ids.slice(0, 2)); // an older chain …
    await linkChain(storage, 'files', ids.slice(2)); // … and the current one, of three
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('shows on --dry-run what each kept incremental needs, in the table and in JSON', async () => {
    const table = await bo('prune', '--dry-run', 'files');
    expect(table.code).toBe(0);
    const line = (id: string) => table.stdout.split('\n').find((l) => l.includes(id)) ?? '';
    expect(line(ids[4]!)).toMatch(/keep\s+last #1$/);
    expect(line(ids[3]!)).toMatch(new RegExp(`keep\\s+parent of ${ids[4]}$`));
    expect(line(ids[2]!)).toMatch(new RegExp(`keep\\s+base of ${ids[4]}$`));
    expect(line(ids[1]!)).toMatch(/\(delete\)\s+no rule matched$/);

    const json = JSON.parse((await bo('prune', '--dry-run', '--json', 'files')).stdout) as {
      jobs: Array<{ rows: Array<{ id: string; action: string; parent?: string; neededBy?: string }> }>;
    };
    expect(json.jobs[0]!.rows.find((r) => r.id === ids[2])).toMatchObject({
      action: 'keep',
      neededBy: ids[4],
    });
    expect(json.jobs[0]!.rows.find((r) => r.id === ids[3])).toMatchObject({
      parent: ids[2],
      neededBy: ids[4],
    });
  });

  it('verifies each incremental with its chain', async () => {
    const r = await bo('verify', 'files');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`ok +files/${ids[4]} +full .*, chain of 2 ancestor\\(s\\) present`));
    expect(r.stdout).toMatch(/5 of 5 backup\(s\) verified/);
  });

  it('says which backups are unrestorable when a chain is already broken', async () => {
    await deleteBackupByHand(storage, 'files', ids[3]!);
    const r = await bo('prune', '--dry-run', 'files');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`unrestorable: its parent ${ids[3]} is missing`);
    // ids[4] passed verify above, but is no good restore point now: the newest verified one is kept.
    expect(r.stdout).toMatch(new RegExp(`${ids[2]}.*keep\\s+newest verified backup \\(always kept\\)`));
    expect(r.stdout).toContain('note: 1 backup(s) cannot be restored: their incremental chain is broken');

    const v = await bo('verify', 'files');
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(
      `FAILED  files/${ids[4]}  full\n        its chain is broken: backup files/${ids[3]} (its parent) is missing; that breaks files/${ids[4]}`,
    );
    expect(v.stdout).toMatch(/3 of 4 backup\(s\) verified, 1 FAILED/);
  });
});
