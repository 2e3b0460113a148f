/** Path helpers for reading a backup's paths out of a snapshot. Pure. */
import { UsageError } from '../errors.ts';
import type { ReadView } from './provider.ts';

/** `/a//b/./c/` → `/a/b/c`; relative paths and `..` are usage errors. */
export function normalizeAbs(p: string, what: string): string {
  if (!p.startsWith('/')) throw new UsageError(`${what} must be an absolute path, got ${JSON.stringify(p)}`);
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new UsageError(`${what} must not contain "..": ${JSON.stringify(p)}`);
  return `/${parts.join('/')}`;
}

/** True when `p` is `dir` or below it. */
export function within(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(`${dir}/`);
}

/**
 * Where each backup path is found inside the snapshot. Every path must lie on the snapshotted
 * volume: a consistent backup that silently read some paths live would not be consistent.
 */
export function pathsInSnapshot(paths: readonly string[], view: ReadView, volume: string): string[] {
  const live = normalizeAbs(view.livePath, 'snapshot mount point');
  return paths.map((raw) => {
    const p = normalizeAbs(raw, 'path');
    if (!within(p, live)) {
      throw new UsageError(
        `path ${p} is not on the snapshot volume ${volume} (mounted at ${live}); a consistent backup reads every path from the snapshot`,
        { hint: 'back it up in a separate job, or snapshot a volume that holds every path' },
      );
    }
    const rest = live === '/' ? p.slice(1) : p.slice(live.length + 1);
    return rest === '' ? view.path : `${view.path.replace(/\/$/, '')}/${rest}`;
  });
}
