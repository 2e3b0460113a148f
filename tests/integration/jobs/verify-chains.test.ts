import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import type { VerifyOutcome } from '../../../src/jobs/verify.ts';
import { verifyBackups } from '../../../src/jobs/verify-run.ts';
import { silentLogger } from '../../../src/log.ts';
import { objectKey } from '../../../src/storage/layout.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { type BackupEnv, backupEnv } from './backup-env.ts';
import { backupChains, deleteBackupByHand, readStoredManifest, writeStoredManifest } from './chain-env.ts';

const skipS3 = s3Missing();
const envs: BackupEnv[] = [];
afterEach(async () => {
  for (const e of envs.splice(0)) await e.cleanup();
});

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(skipS3)],
])('verify of incremental chains on %s storage', (_label, kind, skip) => {
  async function chain(n: number): Promise<{ e: BackupEnv; ids: string[] }> {
    const e = await backupEnv(kind, { jobs: { files: {} } });
    envs.push(e);
    const [ids] = await backupChains(e, 'files', [n]);
    return { e, ids: ids! };
  }
  const verify = (e: BackupEnv, what: string) =>
    verifyBackups(e.services, what, undefined, { signal: new AbortController().signal, log: silentLogger() });
  const summary = (out: VerifyOutcome[]) => out.map((o) => [o.id, o.status, o.ancestors, o.problems]);
  /** Rewrites a stored object in place, same size: a flipped byte in the middle. */
  const corrupt = async (e: BackupEnv, id: string) => {
    const m = await readStoredManifest(e.storage, 'files', id);
    const key = objectKey({ job: 'files', id }, m.archive.key);
    const data = Buffer.from(await buffer(await e.storage.get(key)));
    data[data.length >> 1]! ^= 0x40;
    await e.storage.put(key, data);
    return key;
  };

  it.skipIf(skip)('passes a complete chain, each incremental with its ancestors counted', async () => {
    const { e, ids } = await chain(3);
    const out = await verify(e, 'files');
    expect(summary(out)).toEqual([
      [ids[0], 'ok', undefined, []],
      [ids[1], 'ok', 1, []],
      [ids[2], 'ok', 2, []],
    ]);
    expect(out.every((o) => o.depth === 'full')).toBe(true);
    expect(summary(await verify(e, `files/${ids[2]}`))).toEqual([[ids[2], 'ok', 2, []]]);
  });

  it.skipIf(skip)(
    'a missing middle incremental fails every backup built on it, naming it and all it breaks',
    async () => {
      const { e, ids } = await chain(4);
      await deleteBackupByHand(e.storage, 'files', ids[1]!);
      const breaks = `that breaks files/${ids[2]}, files/${ids[3]}`;
      expect(summary(await verify(e, 'files'))).toEqual([
        [ids[0], 'ok', undefined, []],
        [
          ids[2],
          'failed',
          0,
          [`its chain is broken: backup files/${ids[1]} (its parent) is missing; ${breaks}`],
        ],
        [
          ids[3],
          'failed',
          1,
          [`its chain is broken: backup files/${ids[1]} (parent of ${ids[2]}) is missing; ${breaks}`],
        ],
      ]);
      // The same when only the newest is verified: the job is listed just to name what it breaks.
      expect(summary(await verify(e, `files/${ids[3]}`))).toEqual([
        [
          ids[3],
          'failed',
          1,
          [`its chain is broken: backup files/${ids[1]} (parent of ${ids[2]}) is missing; ${breaks}`],
        ],
      ]);
    },
  );

  it.skipIf(skip)('a missing full fails its incremental', async () => {
    const { e, ids } = await chain(2);
    await deleteBackupByHand(e.storage, 'files', ids[0]!);
    expect(summary(await verify(e, 'files'))).toEqual([
      [
        ids[1],
        'failed',
        0,
        [`its chain is broken: backup files/${ids[0]} (its parent) is missing; that breaks files/${ids[1]}`],
      ],
    ]);
  });

  it.skipIf(skip)(
    'a corrupted parent fails, and its incrementals say their chain includes it (checked in the same run)',
    async () => {
      const { e, ids } = await chain(3);
      const key = await corrupt(e, ids[1]!);
      const out = await verify(e, 'files');
      expect(out.map((o) => [o.id, o.status])).toEqual([
        [ids[0], 'ok'],
        [ids[1], 'failed'],
        [ids[2], 'failed'],
      ]);
      expect(out[1]!.problems.join('\n')).toMatch(`${key} is corrupted`);
      expect(out[2]!.problems).toEqual([
        expect.stringMatching(
          `^its chain includes backup files/${ids[1]} \\(its parent\\), which failed verify in this run: .*${key} is corrupted`,
        ),
      ]);
    },
  );

  it.skipIf(skip)(
    'checks ancestors it does not read in full: objects present, at their recorded sizes',
    async () => {
      const { e, ids } = await chain(3);
      const parent = await readStoredManifest(e.storage, 'files', ids[1]!);
      const archive = objectKey({ job: 'files', id: ids[1]! }, parent.archive.key);
      const data = await buffer(await e.storage.get(archive));
      await e.storage.put(archive, data.subarray(0, data.length - 10));
      const full = await readStoredManifest(e.storage, 'files', ids[0]!);
      const index = objectKey({ job: 'files', id: ids[0]! }, full.index.key);
      await e.storage.delete(index);
      expect(summary(await verify(e, `files/${ids[2]}`))).toEqual([
        [
          ids[2],
          'failed',
          2,
          [
            `its chain includes backup files/${ids[1]} (its parent): ${archive} is ${data.length - 10} bytes, its manifest says ${data.length}`,
            `its chain includes backup files/${ids[0]} (parent of ${ids[1]}): ${index} is missing`,
          ],
        ],
      ]);
    },
  );

  it.skipIf(skip)('fails an incremental whose manifest disagrees with its chain', async () => {
    const { e, ids } = await chain(2);
    const m = await readStoredManifest(e.storage, 'files', ids[1]!);
    await writeStoredManifest(e.storage, { ...m, chain: { ...m.chain!, level: 5 } });
    expect(summary(await verify(e, `files/${ids[1]}`))).toEqual([
      [
        ids[1],
        'failed',
        1,
        [
          `its chain does not match its manifest: it leads to ${ids[0]} after 1 ancestor(s), the manifest says root ${ids[0]} at level 5`,
        ],
      ],
    ]);
  });
});
