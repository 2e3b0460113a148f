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
      `${formatBytes(p.bytes)} read`,
      p.storedBytes === undefined ? '' : `${formatBytes(p.storedBytes)} stored`,
      `${p.files} files`,
      formatRate(p.bytes, ms),
    ];
    if (p.totalBytes && p.bytes > 0 && p.bytes < p.totalBytes) {
      const eta = ((p.totalBytes - p.bytes) * ms) / p.bytes / 1000;
      parts.push(`ETA ${Math.ceil(eta)}s`);
    }
    out.status(parts.filter(Boolean).join('  '));
  };
}
