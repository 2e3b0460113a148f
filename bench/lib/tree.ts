/**
 * The "bench tree" of issue 11: ~800 MB in ~50,000 files, shaped like a small office file server,
 * generated from a fixed seed so every run and every machine backs up the same bytes:
 *   share/dNN/sNN/   40,000 documents of 200 B..40 KB (log-uniform): 3/4 text, 1/4 incompressible
 *   mail/NN/         10,000 mails of 1..3 KB
 *   var/log/         4 × 50 MB text logs; db/dump.sql 100 MB; vm/disk.img 150 MB and
 *                    media/video.mp4 30 MB, both incompressible
 * `mutateTree` changes a fraction of the files (modify 80 %, delete 10 %, add as many new ones
 * as 10 %), also from a seed, so the changed-tree cases are comparable between runs.
 */
import { createCipheriv, createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { rng } from '../../tests/fixtures/mutate-tree.ts';

const VERSION = 1;
const BINARY = new Set(['.jpg', '.pdf', '.img', '.mp4']);
const TEXT_EXT = ['.txt', '.csv', '.conf', '.md', '.odt.xml', '.html'];
const MB = 1 << 20;

/** Incompressible but reproducible bytes: AES-CTR over zeros, keyed by a name. */
function noise(name: string, bytes: number): Buffer {
  const key = createHash('sha256').update(`bench-tree:${name}`).digest();
  const c = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return c.update(Buffer.alloc(bytes));
}

/** Text from a 4,000-word vocabulary with a skewed word frequency: compresses about 3×. */
function textMaker(rand: () => number): (bytes: number) => string {
  const vocab: string[] = [];
  for (let i = 0; i < 4000; i++) {
    let w = '';
    const len = 2 + Math.floor(rand() * 9);
    for (let k = 0; k < len; k++) w += String.fromCharCode(97 + Math.floor(rand() * 26));
    vocab.push(w);
  }
  return (bytes) => {
    const parts: string[] = [];
    let n = 0;
    while (n < bytes) {
      const w = vocab[Math.floor(rand() * rand() * vocab.length)]!;
      const sep = rand() < 0.08 ? '\n' : ' ';
      parts.push(w, sep);
      n += w.length + 1;
    }
    return parts.join('').slice(0, bytes);
  };
}

function writeBig(path: string, bytes: number, chunk: (i: number) => Buffer | string): void {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0, n = 0; n < bytes; i++) {
      const c = chunk(i);
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      writeSync(fd, b);
      n += b.length;
    }
  } finally {
    closeSync(fd);
  }
}

/** A small file's content: text or noise by extension, `bytes` long. */
function smallFile(path: string, bytes: number, text: (n: number) => string, salt: string): void {
  writeFileSync(path, BINARY.has(extname(path)) ? noise(`${path}:${salt}`, bytes) : text(bytes));
}

/** Generates the tree once under `root` (cached: a `.complete` marker), returns where it is. */
export function ensureBenchTree(root: string): { dir: string; files: number; bytes: number } {
  const dir = join(root, `bench-tree-v${VERSION}`);
  if (!existsSync(join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    generate(dir);
    writeFileSync(join(dir, '.complete'), '');
  }
  const { files, bytes } = treeStats(dir);
  return { dir, files, bytes };
}

function generate(dir: string): void {
  const rand = rng(11);
  const text = textMaker(rand);
  for (let d = 0; d < 20; d++) {
    for (let s = 0; s < 50; s++) {
      const sub = join(dir, 'share', `d${d}`, `s${s}`);
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 40; f++) {
        const ext = rand() < 0.25 ? (rand() < 0.5 ? '.jpg' : '.pdf') : TEXT_EXT[f % TEXT_EXT.length]!;
        const size = Math.floor(Math.exp(Math.log(200) + rand() * Math.log(200)));
        smallFile(join(sub, `doc-${f}${ext}`), size, text, 'v0');
      }
    }
  }
  for (let m = 0; m < 10_000; m++) {
    const sub = join(dir, 'mail', String(m % 100));
    if (m < 100) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${m}.eml`), `From: user${m}@example.com\n\n${text(1000 + rand() * 2000)}`);
  }
  mkdirSync(join(dir, 'var', 'log'), { recursive: true });
  for (let i = 1; i <= 4; i++) writeBig(join(dir, 'var', 'log', `syslog.${i}`), 50 * MB, () => text(MB));
  mkdirSync(join(dir, 'db'));
  writeBig(join(dir, 'db', 'dump.sql'), 100 * MB, () => `INSERT INTO t VALUES ('${text(MB)}');\n`);
  mkdirSync(join(dir, 'vm'));
  writeBig(join(dir, 'vm', 'disk.img'), 150 * MB, (i) => noise(`disk.img:${i}`, MB));
  mkdirSync(join(dir, 'media'));
  writeBig(join(dir, 'media', 'video.mp4'), 30 * MB, (i) => noise(`video.mp4:${i}`, MB));
}

/** Regular files under `dir` (relative paths, sorted, the cache marker left out). */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== '.complete')
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

export function treeStats(dir: string): { files: number; bytes: number } {
  const files = listFiles(dir);
  return { files: files.length, bytes: files.reduce((n, f) => n + statSync(join(dir, f)).size, 0) };
}

export interface Mutation {
  modified: number;
  deleted: number;
  added: number;
  /** Bytes written by the changes: about what an incremental has to store, before compression. */
  bytesWritten: number;
}

/**
 * Changes `fraction` of the files: 80 % of them modified (a small file rewritten, a large one
 * with 1 MB appended or overwritten), 10 % deleted, and as many new files added as 10 %.
 */
export function mutateTree(dir: string, fraction: number, seed: number): Mutation {
  const rand = rng(seed);
  const text = textMaker(rand);
  const files = listFiles(dir);
  const n = Math.round(files.length * fraction);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (files.length - i));
    [files[i], files[j]] = [files[j]!, files[i]!];
  }
  const picked = files.slice(0, n);
  const nModify = Math.round(n * 0.8);
  const nDelete = Math.round(n * 0.1);
  const out: Mutation = { modified: 0, deleted: 0, added: 0, bytesWritten: 0 };
  for (const rel of picked.slice(0, nModify)) {
    const path = join(dir, rel);
    const size = statSync(path).size;
    if (size > MB) {
      if (BINARY.has(extname(path))) {
        const fd = openSync(path, 'r+');
        writeSync(fd, noise(`${rel}:${seed}`, MB), 0, MB, Math.floor(rand() * (size - MB)));
        closeSync(fd);
      } else appendFileSync(path, text(MB));
      out.bytesWritten += MB;
    } else {
      const next = Math.max(100, Math.floor(size * (0.8 + rand() * 0.4)));
      smallFile(path, next, text, `m${seed}`);
      out.bytesWritten += next;
    }
    out.modified++;
  }
  for (const rel of picked.slice(nModify, nModify + nDelete)) {
    rmSync(join(dir, rel));
    out.deleted++;
  }
  for (let i = nModify + nDelete; i < n; i++) {
    const near = dirname(join(dir, picked[Math.floor(rand() * nModify)]!));
    const ext = rand() < 0.25 ? '.jpg' : '.txt';
    const size = Math.floor(Math.exp(Math.log(200) + rand() * Math.log(200)));
    smallFile(join(near, `new-${seed}-${i}${ext}`), size, text, `a${seed}`);
    out.bytesWritten += size;
    out.added++;
  }
  return out;
}
