/**
 * The model check for incremental chains, end to end: a real sshd, a real S3 server, the real
 * `bo`. A tree is mutated at random (fixed seed, printed on failure) between 14 backups: files
 * and directories created, modified, deleted and renamed, chmod, chown, hard links, symlinks,
 * xattrs, a file replaced by a directory and back, files with an old mtime, and one file changing
 * while a backup runs. Then every point in time is restored, locally and onto the host with its
 * own tar, and compared with a copy of the tree recorded at that moment.
 */

import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/archive/age/index.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { diffTrees, mutateTree, type Recorded, rng, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';

const SEED = Number(process.env.BO_MODEL_SEED ?? 20261207);
const BACKUPS = 14;
const skip =
  s3Missing() ??
  missing('setfattr/getfattr', hasCommand('setfattr') && hasCommand('getfattr'), 'Debian package attr');
const root = process.getuid?.() === 0;

describe.skipIf(skip)(`incremental chains: every point in time restores exactly (seed ${SEED})`, () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-model-'));
  const src = join(work, 'src');
  const keyFile = join(work, 'identity.txt');
  const { identity, recipient } = generateIdentity();
  let sshd: SshdFixture;
  let bucket: TestBucket;
  let config: string;
  const points: Array<{ id: string; tree: Map<string, Recorded>; note: string; changing?: string }> = [];
  const log: string[] = [];
  const why = () => `seed ${SEED} (BO_MODEL_SEED to replay)\n${log.join('\n')}`;
  const bo = (args: string[]) => runBo(['--config', config, ...args]);

  beforeAll(async () => {
    sshd = (await startSshd())!;
    bucket = await newBucket();
    writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
    config = writeConfig({
      stateDir: join(work, 'state'),
      storage: { offsite: { ...bucket.config, prefix: 'bo/' } },
      hosts: { files1: sshd.hostConfig() },
      jobs: {
        share: {
          host: 'files1',
          paths: [src],
          storage: 'offsite',
          encryption: { recipients: [recipient] },
          incremental: { fullEvery: 100 },
        },
      },
    });
    mkdirSync(join(src, 'docs/reports'), { recursive: true });
    mkdirSync(join(src, 'mail/alice/cur'), { recursive: true });
    writeFileSync(join(src, 'docs/reports/q1.txt'), 'q1\n');
    writeFileSync(join(src, 'mail/alice/cur/1'), 'hello alice\n');
    writeFileSync(join(src, 'top.txt'), 'top\n');
    const random = rng(SEED);
    for (let i = 0; i < BACKUPS; i++) {
      // No mutation before the backup after the one that ran beside a writer: that backup must
      // hold the file's final state by itself.
      if (i > 0 && i !== 6) {
        const done = await mutateTree(src, random, 2 + Math.floor(random() * 8), {
          chown: root,
          xattrs: true,
        });
        log.push(`-- before backup ${i}:`, ...done);
      }
      const args = ['backup', 'now', 'share', '--json', ...(i === 8 ? ['--full'] : [])];
      // One backup runs while a file keeps changing: it may hold any state of that file, but the
      // next backup must hold its final state.
      const changing = i === 5 ? join(src, 'changing.log') : undefined;
      if (changing) writeFileSync(changing, 'start\n');
      const writer = changing ? keepAppending(changing) : undefined;
      const r = await bo(args);
      await writer?.stop();
      expect(r.code, `${r.stderr}\n${why()}`).toBe(0);
      const result = (JSON.parse(r.stdout) as { jobs: Array<{ result: { backupId: string; note: string } }> })
        .jobs[0]!.result;
      log.push(`backup ${i}: ${result.backupId} (${result.note})`);
      points.push({
        id: result.backupId,
        tree: await snapshotTree(src, { xattrs: true }),
        note: result.note,
        ...(changing ? { changing: 'changing.log' } : {}),
      });
    }
  }, 600_000);
  afterAll(async () => {
    await sshd?.stop();
    await bucket?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('makes one full, then incrementals; --full starts a new chain', () => {
    expect(points.map((p) => p.note.replace(/:.*/, '').replace(/level \d+/, 'level'))).toEqual([
      'full',
      ...Array(7).fill('incremental, level'),
      'full',
      ...Array(BACKUPS - 9).fill('incremental, level'),
    ]);
    expect(points[7]!.note).toBe('incremental, level 7');
  });

  /** The recorded tree, without what a backup taken while it changed may hold either way. */
  const expected = (p: (typeof points)[number], opts: { xattrs: boolean }) => {
    const tree = new Map(p.tree);
    if (p.changing) tree.delete(p.changing);
    if (!opts.xattrs) for (const [k, v] of tree) if (v.xattrs) tree.set(k, { ...v, xattrs: undefined });
    return tree;
  };
  const actual = async (dir: string, p: (typeof points)[number], opts: { xattrs: boolean }) => {
    const tree = await snapshotTree(dir, opts);
    if (p.changing) tree.delete(p.changing);
    return tree;
  };

  it('restores every point in time locally: content, modes, owners, mtimes, links', async () => {
    for (const [i, p] of points.entries()) {
      const target = join(work, `local-${i}`);
      const r = await bo(['restore', 'share', '--backup', p.id, '--to', target, '-i', keyFile]);
      expect(r.code, `point ${i}: ${r.stderr}\n${why()}`).toBe(0);
      const got = await actual(join(target, src), p, { xattrs: false });
      expect(
        diffTrees(expected(p, { xattrs: false }), got, { owners: root }),
        `point ${i}\n${why()}`,
      ).toEqual([]);
      rmSync(target, { recursive: true, force: true });
    }
  }, 600_000);

  it('restores every point in time onto the host with its own tar, xattrs included', async () => {
    for (const [i, p] of points.entries()) {
      const target = join(work, `host-${i}`);
      const r = await bo([
        'restore',
        'share',
        '--backup',
        p.id,
        '--to-host',
        `files1:${target}`,
        '-i',
        keyFile,
      ]);
      expect(r.code, `point ${i}: ${r.stderr}\n${why()}`).toBe(0);
      const got = await actual(join(target, src), p, { xattrs: true });
      expect(diffTrees(expected(p, { xattrs: true }), got, { owners: root }), `point ${i}\n${why()}`).toEqual(
        [],
      );
      rmSync(target, { recursive: true, force: true });
    }
  }, 600_000);

  it('the backup after one taken while a file changed holds its final state (restored exactly above)', () => {
    expect(points[5]!.changing).toBe('changing.log');
    expect(points[6]!.changing).toBeUndefined();
    expect(points[6]!.tree.get('changing.log')?.size).toBeGreaterThan(100);
  });
});

/** Appends to `file` every few milliseconds until stopped (a writer during a backup). */
function keepAppending(file: string): { stop(): Promise<void> } {
  let on = true;
  const loop = (async () => {
    for (let n = 0; on; n++) {
      appendFileSync(file, `line ${n}\n`);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
    },
  };
}
