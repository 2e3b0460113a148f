/**
 * Snapshot sources stay incremental: each run reads a new btrfs snapshot (a new mount path and a
 * new device number every time), yet an unchanged file is archived once, in the full. Real btrfs
 * on a loop device, host `local`, filesystem storage.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAR_MARGIN_S } from '../../../src/archive/snar.ts';
import { listBackups } from '../../../src/catalog/backups.ts';
import { readIndex } from '../../../src/catalog/objects.ts';
import { systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import { restoreBackup } from '../../../src/jobs/restore.ts';
import { silentLogger } from '../../../src/log.ts';
import { createServices } from '../../../src/services.ts';
import { type BtrfsFixture, startBtrfs } from '../../fixtures/btrfs.ts';
import { diffTrees, snapshotTree } from '../../fixtures/mutate-tree.ts';

const fx: BtrfsFixture | undefined = startBtrfs(256);
const log = silentLogger();

describe.skipIf(!fx)('incremental backups from btrfs snapshots', () => {
  let vol: string;
  let config: Config;

  beforeAll(async () => {
    vol = fx!.subvolume('share');
    mkdirSync(join(vol, 'docs/old'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(vol, 'docs/old', `f${i}`), `file ${i}\n`.repeat(100));
    // Older than the snapshot file's margin, so the unchanged files are archived once.
    await new Promise((r) => setTimeout(r, (SNAR_MARGIN_S + 0.5) * 1000));
    config = parseResolved(Config, {
      stateDir: join(fx!.mnt, 'state'),
      storage: { repo: { type: 'filesystem', path: join(fx!.mnt, 'repo') } },
      jobs: {
        share: {
          host: 'local',
          paths: [join(vol, 'docs')],
          storage: 'repo',
          snapshot: { provider: 'btrfs', volume: vol },
        },
      },
    });
  });
  afterAll(() => fx?.stop());

  const backup = async () => {
    const services = createServices({ config, log, clock: systemClock });
    try {
      return await runJob('share', config.jobs.share!, {
        services,
        log,
        signal: new AbortController().signal,
        runId: randomUUID(),
      });
    } finally {
      await services.close();
    }
  };

  it('archives only what changed, run after run, each from a new snapshot; the newest restores exactly', async () => {
    const first = await backup();
    expect(first.note).toMatch(/^full: first backup/);
    writeFileSync(join(vol, 'docs/new.txt'), 'new\n');
    await new Promise((r) => setTimeout(r, (SNAR_MARGIN_S + 0.5) * 1000)); // or the third has it too
    const second = await backup();
    expect(second.note).toBe('incremental, level 1');
    renameSync(join(vol, 'docs/old/f3'), join(vol, 'docs/f3-moved'));
    rmSync(join(vol, 'docs/old/f4'));
    await new Promise((r) => setTimeout(r, 1100)); // snapshot names have one-second resolution
    const third = await backup();
    expect(third.note).toBe('incremental, level 2');

    const services = createServices({ config, log, clock: systemClock });
    try {
      const storage = services.storage('repo');
      const refs = (await listBackups(storage, { job: 'share' })).backups;
      const byId = (id: string | undefined) => refs.find((b) => b.id === id)!;
      const files = async (id: string | undefined) =>
        (await readIndex(storage, byId(id), undefined))
          .filter((e) => e.type === 'file')
          .map((e) => e.path.split('/').at(-1));
      expect((await files(first.backupId)).length).toBe(20);
      expect(await files(second.backupId)).toEqual(['new.txt']);
      expect(await files(third.backupId)).toEqual(['f3-moved']);
      // Each run read its own snapshot, under another path.
      const paths = [first, second, third].map((r) => byId(r.backupId).manifest.snapshot?.sourcePath);
      expect(new Set(paths).size).toBe(3);

      const dir = join(fx!.mnt, 'restored');
      await restoreBackup({
        storage,
        ref: byId(third.backupId),
        target: { kind: 'local', dir },
        signal: new AbortController().signal,
        log,
      });
      expect(
        diffTrees(await snapshotTree(join(vol, 'docs')), await snapshotTree(join(dir, vol, 'docs'))),
      ).toEqual([]);
    } finally {
      await services.close();
    }
  });
});
