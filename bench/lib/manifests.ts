/** Manifests as a fleet's history holds them, fabricated for the prune and fleet benchmarks. */
import type { Manifest } from '../../src/catalog/manifest.ts';

const HOUR = 3_600_000;

/** Incremental chains: a full every week of hourly backups. */
export const CHAIN_LENGTH = 168;

function backupId(i: number, n: number, end: number): string {
  const t = new Date(end - (n - 1 - i) * HOUR);
  return `${t
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${(i % 0xffffff).toString(16).padStart(6, '0')}`;
}

/** A realistic manifest of backup number i, hourly, newest at `end`, in chains of CHAIN_LENGTH. */
export function fabricatedManifest(job: string, i: number, n: number, end: number): Manifest {
  const t = new Date(end - (n - 1 - i) * HOUR);
  const id = backupId(i, n, end);
  const level = i % CHAIN_LENGTH;
  const obj = (key: string) => ({ key, size: 123456 + i, sha256: 'ab'.repeat(32) });
  return {
    format: 'bo-backup',
    version: 2,
    id,
    job,
    host: 'files1',
    hostAddress: '10.0.0.5',
    paths: ['/srv/share', '/etc'],
    exclude: ['*.tmp'],
    startedAt: t.toISOString(),
    finishedAt: new Date(t.getTime() + 60_000).toISOString(),
    tool: { name: 'bo', version: '0.1.0' },
    compression: 'zstd',
    encryption: { type: 'age', recipients: [`age1${'q'.repeat(58)}`] },
    archive: obj('archive.tar.zst.age'),
    index: obj('index.jsonl.zst.age'),
    dumps: [],
    stats: { files: 1234, dirs: 56, bytes: 9_999_999, tarBytes: 10_000_000 },
    warnings: [],
    snapshot: null,
    chain:
      level === 0
        ? { type: 'full', level, parent: null, root: id }
        : { type: 'incremental', level, parent: backupId(i - 1, n, end), root: backupId(i - level, n, end) },
    seekable: null,
  };
}
