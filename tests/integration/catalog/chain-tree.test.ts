/**
 * The chain replay (catalog/chain-tree.ts) against the real thing: a tree mutated at random
 * between GNU tar --listed-incremental dumps. At every point in time, the tree replayed from the
 * indexes alone, and the tree stock tar rebuilds from the archives (`tar -x -g /dev/null`, archive
 * by archive), must both equal the tree as it was recorded then.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareSnar, SNAR_MARGIN_S } from '../../../src/archive/snar.ts';
import { createTarIndexer, type IndexEntry } from '../../../src/archive/tar-index.ts';
import { type ChainEntry, replayChain } from '../../../src/catalog/chain-tree.ts';
import { diffTrees, mutateTree, type Recorded, rng, snapshotTree } from '../../fixtures/mutate-tree.ts';
import { collector } from '../archive/tar-helpers.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function indexOf(archive: Buffer): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  const indexer = createTarIndexer({ onEntry: (e) => entries.push(e) });
  await pipeline(Readable.from([archive]), indexer.writable);
  await indexer.done;
  return entries;
}

/** The replayed tree in the shape snapshotTree records (hardlinks resolved to their file). */
function asRecorded(entries: ChainEntry[], prefix: string): Map<string, Recorded> {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const out = new Map<string, Recorded>();
  const inode = new Map<string, number>();
  for (const e of entries) {
    if (!e.path.startsWith(`${prefix}/`)) continue;
    const rel = e.path.slice(prefix.length + 1);
    const base = { mode: e.mode, uid: e.uid, gid: e.gid, mtime: Math.floor(e.mtime) };
    if (e.type === 'dir') out.set(rel, { type: 'dir', ...base });
    else if (e.type === 'symlink') out.set(rel, { type: 'symlink', ...base, mode: 0, target: e.linkpath! });
    else {
      const file = e.type === 'hardlink' ? byPath.get(e.linkpath!)! : e;
      const ino = inode.get(file.path) ?? inode.size + 1;
      inode.set(file.path, ino);
      out.set(rel, {
        type: 'file',
        ...base,
        mode: file.mode,
        mtime: Math.floor(file.mtime),
        size: file.size,
        sha256: file.sha256!,
        ino,
      });
    }
  }
  return out;
}

describe('incremental chain replay against GNU tar', () => {
  // 120 seeds passed once by hand (100..219); CI runs a few.
  for (const seed of [11, 12, 13, 14, 15, 16]) {
    it(`seed ${seed}: replayed indexes and stock tar both rebuild every point in time`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bo-chain-'));
      dirs.push(dir);
      const src = join(dir, 'src');
      mkdirSync(join(src, 'a/b'), { recursive: true });
      mkdirSync(join(src, 'c'));
      writeFileSync(join(src, 'a/one'), 'one');
      writeFileSync(join(src, 'a/b/two'), 'two');
      writeFileSync(join(src, 'c/three'), 'three');
      const random = rng(seed);
      const snar = join(dir, 'snar');
      const archives: Buffer[] = [];
      const indexes: Array<{ id: string; entries: IndexEntry[] }> = [];
      const trees: Array<Map<string, Recorded>> = [];
      const log: string[] = [];
      for (let step = 0; step < 12; step++) {
        if (step > 0)
          log.push(`-- before ${step}:`, ...(await mutateTree(src, random, 1 + Math.floor(random() * 6))));
        const work = join(dir, 'snar.work');
        if (step === 0) rmSync(work, { force: true });
        else writeFileSync(work, readFileSync(snar));
        const archive = execFileSync(
          'tar',
          ['-c', '-f', '-', '--format=posix', '-g', work, '--no-check-device', '-C', dir, 'src'],
          {
            maxBuffer: 1 << 30,
          },
        );
        const out = collector();
        await pipeline(Readable.from([readFileSync(work)]), prepareSnar(), out.stream);
        writeFileSync(snar, out.bytes());
        archives.push(archive);
        indexes.push({ id: `b${step}`, entries: await indexOf(archive) });
        trees.push(await snapshotTree(src));
      }
      const why = () => `seed ${seed}\n${log.join('\n')}`;
      for (let i = 0; i < archives.length; i++) {
        const replay = replayChain(indexes.slice(0, i + 1));
        expect(replay.problems, why()).toEqual([]);
        expect(diffTrees(trees[i]!, asRecorded(replay.entries(), 'src')), `point ${i}: ${why()}`).toEqual([]);

        const target = join(dir, `r${i}`);
        mkdirSync(target);
        for (const a of archives.slice(0, i + 1)) {
          execFileSync('tar', ['-x', '-g', '/dev/null', '-f', '-'], { input: a, cwd: target });
        }
        expect(
          diffTrees(trees[i]!, await snapshotTree(join(target, 'src'))),
          `stock tar, point ${i}: ${why()}`,
        ).toEqual([]);
      }
    });
  }

  it('an unchanged tree archives no file; a renamed directory is archived again, without rename records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bo-chain-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'src/big/sub'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `src/big/sub/f${i}`), `file ${i}`);
    // Files changed within the snapshot file's safety margin before a dump are archived again.
    await new Promise((r) => setTimeout(r, (SNAR_MARGIN_S + 0.5) * 1000));
    const work = join(dir, 'snar.work');
    const dump = async () => {
      const archive = execFileSync('tar', [
        '-c',
        '-f',
        '-',
        '--format=posix',
        '-g',
        work,
        '--no-check-device',
        '-C',
        dir,
        'src',
      ]);
      const out = collector();
      await pipeline(Readable.from([readFileSync(work)]), prepareSnar(), out.stream);
      writeFileSync(work, out.bytes());
      return indexOf(archive);
    };
    const full = await dump();
    expect(full.filter((e) => e.type === 'file')).toHaveLength(20);
    const unchanged = await dump();
    expect(unchanged.filter((e) => e.type === 'file')).toEqual([]);
    execFileSync('mv', [join(dir, 'src/big'), join(dir, 'src/moved')]);
    const renamed = await dump();
    expect(renamed.filter((e) => e.type === 'file')).toHaveLength(20);
    expect(renamed.flatMap((e) => e.dumpdir ?? []).filter((r) => /^[RTX]/.test(r))).toEqual([]);
    const tree = replayChain([full, unchanged, renamed].map((entries, i) => ({ id: `b${i}`, entries })));
    expect(tree.problems).toEqual([]);
    expect(
      tree
        .entries()
        .filter((e) => e.type === 'file')
        .map((e) => `${e.path} ${e.from}`),
    ).toContain('src/moved/sub/f7 b2');
  });

  it("replays GNU tar's rename records (archives made by tar with rename detection)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bo-chain-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'src/a/deep'), { recursive: true });
    mkdirSync(join(dir, 'src/b'));
    writeFileSync(join(dir, 'src/a/deep/f'), 'f');
    writeFileSync(join(dir, 'src/b/g'), 'g');
    const snar = join(dir, 'snar');
    const dump = () =>
      indexOf(execFileSync('tar', ['-c', '-f', '-', '--format=posix', '-g', snar, '-C', dir, 'src']));
    const full = await dump();
    execFileSync(
      'sh',
      ['-c', 'mv src/a src/x && mv src/b src/a && mv src/x src/b && mv src/b/deep src/c', ''],
      { cwd: dir },
    );
    const inc = await dump();
    expect(inc.flatMap((e) => e.dumpdir ?? []).some((r) => r.startsWith('R'))).toBe(true);
    expect(inc.filter((e) => e.type === 'file')).toEqual([]);
    const tree = replayChain([
      { id: 'full', entries: full },
      { id: 'inc', entries: inc },
    ]);
    expect(tree.problems).toEqual([]);
    expect(diffTrees(await snapshotTree(join(dir, 'src')), asRecorded(tree.entries(), 'src'))).toEqual([]);
    const files = tree.entries().filter((e) => e.type === 'file');
    expect(files.map((e) => `${e.path} from ${e.from} as ${e.member}`)).toEqual([
      'src/a/g from full as src/b/g',
      'src/c/f from full as src/a/deep/f',
    ]);
  });
});
