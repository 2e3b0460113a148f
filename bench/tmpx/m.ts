import { Manifest } from '../../src/catalog/manifest.ts';

const HOUR = 3600000;
const N = Number(process.argv[2] ?? 200000);
const mode = process.argv[3];
const end = Date.now();
const id = (i: number) =>
  new Date(end - (N - 1 - i) * HOUR)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z') +
  '-' +
  (i % 0xffffff).toString(16).padStart(6, '0');
function man(i: number) {
  const t = new Date(end - (N - 1 - i) * HOUR);
  const level = i % 168;
  const obj = (key: string) => ({
    key,
    size: 123456 + i,
    sha256: 'ab'.repeat(31) + (i % 256).toString(16).padStart(2, '0'),
  });
  return {
    format: 'bo-backup',
    version: 2,
    id: id(i),
    job: 'files1',
    host: 'files1',
    hostAddress: '10.0.0.5',
    paths: ['/srv/share', '/etc'],
    exclude: ['*.tmp'],
    startedAt: t.toISOString(),
    finishedAt: new Date(t.getTime() + 60000).toISOString(),
    tool: { name: 'bo', version: '0.1.0' },
    compression: 'zstd',
    encryption: { type: 'age', recipients: ['age1' + 'q'.repeat(58)] },
    archive: obj('archive.tar.zst.age'),
    index: obj('index.jsonl.zst.age'),
    dumps: [],
    stats: { files: 1234, dirs: 56, bytes: 9999999, tarBytes: 10000000 },
    warnings: [],
    snapshot: null,
    chain:
      level === 0
        ? { type: 'full', level, parent: null, root: id(i) }
        : { type: 'incremental', level, parent: id(i - 1), root: id(i - level) },
  };
}
const gc = () => {
  (globalThis as any).gc();
  return process.memoryUsage().heapUsed / 1e6;
};
const h0 = gc();
const out: unknown[] = [];
const pool = new Map<string, unknown>();
const intern = <T>(v: T): T => {
  const k = JSON.stringify(v);
  const got = pool.get(k);
  if (got !== undefined) return got as T;
  pool.set(k, v);
  return v;
};
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const line = JSON.stringify(man(i));
  const m = mode === 'zod' ? Manifest.parse(JSON.parse(line)) : JSON.parse(line);
  if (mode === 'intern') {
    for (const f of [
      'paths',
      'exclude',
      'tool',
      'encryption',
      'dumps',
      'warnings',
      'host',
      'hostAddress',
      'compression',
      'job',
      'format',
    ])
      m[f] = intern(m[f]);
    m.archive.key = intern(m.archive.key);
    m.index.key = intern(m.index.key);
    m.stats = intern(m.stats);
  }
  out.push(m);
}
const hh = gc();
console.log(
  out.length,
  mode,
  N,
  'heap MB',
  (hh - h0).toFixed(0),
  'per',
  (((hh - h0) * 1e6) / N).toFixed(0),
  'B',
  'ms',
  (performance.now() - t0).toFixed(0),
  'rss',
  (process.memoryUsage().rss / 1e6).toFixed(0),
);
console.log(out.length);
