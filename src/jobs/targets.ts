import { UsageError } from '../errors.ts';
import type { Services } from '../services.ts';

/** Backup jobs that prune, verify or drill act on: the named ones (checked), else every backup job. */
export function backupJobTargets(services: Services, names: readonly string[] | undefined): string[] {
  const all = Object.entries(services.config.jobs)
    .filter(([, j]) => j.kind === 'backup')
    .map(([n]) => n);
  if (!names?.length) return all;
  for (const n of names) {
    const j = services.config.jobs[n];
    if (!j) throw new UsageError(`unknown job "${n}"`, { hint: `backup jobs: ${all.join(', ') || 'none'}` });
    if (j.kind !== 'backup') throw new UsageError(`job "${n}" is a ${j.kind} job, not a backup job`);
  }
  return [...names];
}
