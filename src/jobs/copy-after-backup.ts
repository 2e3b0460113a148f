import type { BackupJob } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { formatBytes } from '../sizes.ts';
import { copyJob } from './copy.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';

/**
 * After a backup committed (and released its lock): copies to each of the job's `copies`, from
 * the job's storage, never from the server again. The backup is committed whatever happens
 * here, so a failed copy does not fail the run: it is logged as an error, said in the run's
 * summary, and shows as copy lag in `bo status`, the report and the backup-freshness check,
 * which alerts once it is overdue. The next backup's copy (or `bo copy`) catches up.
 */
export async function copiesAfterBackup(
  name: string,
  job: BackupJob,
  ctx: JobRunContext,
  result: JobRunResult,
): Promise<JobRunResult> {
  if (job.copies.length === 0) return result;
  const notes: string[] = [];
  for (const { storage } of job.copies) {
    if (ctx.signal.aborted) {
      notes.push(`copy to ${storage} cancelled`);
      continue;
    }
    try {
      const r = await copyJob(ctx.services, name, job, storage, {
        signal: ctx.signal,
        log: ctx.log,
        runId: ctx.runId,
        onProgress: (p) => ctx.onProgress?.({ phase: `copy to ${storage}`, bytes: p.bytes, files: 0 }),
      });
      const bytes = r.copied.reduce((n, c) => n + c.bytes, 0);
      const copied = `copied ${r.copied.length} backup(s) (${formatBytes(bytes)}) to ${storage}`;
      notes.push(r.failed.length ? `${copied}, ${r.failed.length} FAILED: ${r.failed[0]!.error}` : copied);
    } catch (err) {
      if (ctx.signal.aborted) {
        notes.push(`copy to ${storage} cancelled`);
        continue;
      }
      ctx.log.error({ storage, err: errorMessage(err) }, 'Copy failed');
      notes.push(`copy to ${storage} FAILED: ${errorMessage(err)}`);
    }
  }
  return { ...result, summary: `${result.summary}; ${notes.join('; ')}` };
}
