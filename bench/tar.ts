/**
 * Tar indexing and extraction throughput on a mixed tree (many small files, some medium and
 * large ones), with baselines measured in the same run on the same archive:
 *   - index:   SHA-256 of the whole stream (the floor), node-tar's Parser hashing each entry,
 *              bo's indexer (createTarIndexer);
 *   - extract: GNU `tar -x`, bo's extractTar (with and without index verification).
 *   node bench/tar.ts [MiB]   (default 1024; data is kept in bench/.data/tar for re-runs)
 * Extraction goes to bench/.data/tar/out, or to $BENCH_OUT (e.g. a tmpfs, to leave disk
 * writeback out of the comparison).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { extractTar } from '../src/archive/extract.ts';
import { createTarIndexer, type IndexEntry } from '../src/archive/tar-index.ts';

const MiB = 1024 * 1024;
const total = Number(process.argv[2] ?? 1024) * MiB;
const dir = new URL('./.data/tar/', import.meta.url).pathname;
const src = join(dir, 'src');
const archive = join(dir, `mixed-${total / MiB}.tar`);

function buildTree(): { files: number } {
  rmSync(src, { recursive: true, force: true });
  const pool = randomBytes(64 * MiB);
  let written = 0;
  let files = 0;
  const put = (rel: string, size: number) => {
    mkdirSync(join(src, rel, '..'), { recursive: true });
    const at = Math.floor(Math.random() * (pool.length - size));
    writeFileSync(join(src, rel), pool.subarray(at, at + size));
    written += size;
    files++;
  };
  // ~25% in small files (1-32 KiB), ~45% medium (1-8 MiB), ~30% large (64 MiB).
  for (let i = 0; written < total * 0.25; i++)
    put(`small/${i % 100}/${i}.dat`, 1024 + Math.floor(Math.random() * 31 * 1024));
  for (let i = 0; written < total * 0.7; i++)
    put(`medium/${i}.bin`, MiB + Math.floor(Math.random() * 7 * MiB));
  for (let i = 0; written < total; i++)
    put(`large/${i}.img`, Math.min(64 * MiB, Math.max(1, total - written)));
  return { files };
}

async function timed(label: string, bytes: number, fn: () => Promise<unknown>): Promise<void> {
  const start = process.hrtime.bigint();
  await fn();
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(40)} ${(bytes / 1e6 / s).toFixed(0).padStart(6)} MB/s  (${s.toFixed(2)} s)`);
}

const read = () => createReadStream(archive, { highWaterMark: MiB });

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(archive)) {
    const { files } = buildTree();
    console.log(`built ${files} files under ${src}`);
    execFileSync('sh', ['-c', `tar -c -f '${archive}' --format=posix --sparse -C '${src}' .`]);
  }
  const size = statSync(archive).size;
  console.log(`archive ${archive}: ${(size / MiB).toFixed(0)} MiB\n`);
  await timed('warm page cache (read only)', size, () =>
    pipeline(read(), new Writable({ write: (_c, _e, cb) => cb() })),
  );

  await timed('baseline: sha256 of the whole stream', size, async () => {
    const h = createHash('sha256');
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        h.update(c);
        cb();
      },
    });
    await pipeline(read(), sink);
  });
  await timed('baseline: node-tar Parser + sha256/entry', size, async () => {
    const p = new Parser({
      onReadEntry: (e: ReadEntry) => {
        const h = createHash('sha256');
        e.on('data', (c: Buffer) => h.update(c));
        e.on('end', () => h.digest('hex'));
      },
    });
    await pipeline(read(), p as unknown as Writable);
  });
  let entries = 0;
  const index = new Map<string, IndexEntry>();
  await timed('bo createTarIndexer', size, async () => {
    const ix = createTarIndexer({
      onEntry: (e) => {
        entries++;
        index.set(e.path, e);
      },
    });
    await pipeline(read(), ix.writable);
    await ix.done;
  });
  const rss = process.memoryUsage().rss;
  console.log(
    `  ${entries} entries; rss ${(rss / MiB).toFixed(0)} MiB (includes the ${index.size}-entry map kept for the next step)\n`,
  );

  const out = process.env.BENCH_OUT ?? join(dir, 'out');
  console.log(`extracting into ${out}`);
  const fresh = () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
  };
  fresh();
  await timed('baseline: GNU tar -x', size, async () =>
    execFileSync('tar', ['-x', '-f', archive, '-C', out]),
  );
  fresh();
  await timed('bo extractTar', size, () => extractTar(read(), out));
  fresh();
  await timed('bo extractTar, verified against index', size, () =>
    extractTar(read(), out, { expect: (p) => index.get(p) }),
  );
  rmSync(out, { recursive: true, force: true });
}

await main();
