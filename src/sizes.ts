/**
 * bo's size vocabulary, used under these names on every surface (bo list, bo status, the
 * report, bo backup now, the progress line, /metrics):
 *
 * - **source bytes**: the file content read from the server, before compression (the
 *   manifest's `stats.bytes`; sparse files count their apparent size);
 * - **stored bytes**: everything the backup stored: archive, index and dumps.
 *
 * And one formatter for both, in IEC units.
 */
import type { Manifest } from './catalog/manifest.ts';

export interface BackupSizes {
  sourceBytes: number;
  storedBytes: number;
}

export function backupSizes(m: Pick<Manifest, 'stats' | 'archive' | 'index' | 'dumps'>): BackupSizes {
  return {
    sourceBytes: m.stats.bytes,
    storedBytes: m.archive.size + m.index.size + m.dumps.reduce((n, d) => n + d.object.size, 0),
  };
}

/** "225 B", "1.10 KiB", "25.0 MiB", "400 MiB": IEC units, three significant digits. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
  return `${n < 0 ? '-' : ''}${s} ${units[i]}`;
}

/** "source 3.02 MiB, stored 20.2 KiB"; either part is left out when unknown. */
export function formatSizes(s: {
  sourceBytes?: number | undefined;
  storedBytes?: number | undefined;
}): string {
  return [
    s.sourceBytes === undefined ? '' : `source ${formatBytes(s.sourceBytes)}`,
    s.storedBytes === undefined ? '' : `stored ${formatBytes(s.storedBytes)}`,
  ]
    .filter(Boolean)
    .join(', ');
}
