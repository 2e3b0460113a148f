import type { JobProgress } from '../jobs/kinds.ts';
import { formatBytes, formatRate } from './format.ts';
import type { Output } from './output.ts';

/** Renders job progress as one redrawn status line on a terminal; silent otherwise. */
export function progressRenderer(
  out: Output,
  label: string,
  now: () => number = Date.now,
): (p: JobProgress) => void {
  const start = now();
  return (p) => {
    const ms = now() - start;
    const parts = [
      `${label}: ${p.phase}`,
      progressBytes(p),
      p.storedBytes === undefined ? '' : `stored ${formatBytes(p.storedBytes)}`,
      `${p.files} files`,
      formatRate(p.bytes, ms),
    ];
    if (estimating(p) && p.bytes > 0)
      parts.push(`ETA ${formatEta(((p.totalBytes - p.bytes) * ms) / p.bytes)}`);
    out.status(parts.filter(Boolean).join('  '));
  };
}

/**
 * "source 100 MiB of ~400 MiB (25%)": a backup's source bytes, of the previous backup's while
 * this one is still below them (past them, the estimate says nothing more).
 */
export function progressBytes(p: JobProgress): string {
  const done = `source ${formatBytes(p.bytes)}`;
  if (!estimating(p)) return done;
  return `${done} of ~${formatBytes(p.totalBytes)} (${Math.floor((p.bytes / p.totalBytes) * 100)}%)`;
}

function estimating(p: JobProgress): p is JobProgress & { totalBytes: number } {
  return p.totalBytes !== undefined && p.totalBytes > 0 && p.bytes < p.totalBytes;
}

/** "12s", "5m", "3h19m". */
export function formatEta(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
