import type { Command } from 'commander';
import { formatDuration } from '../../config/duration.ts';
import { EXIT } from '../../errors.ts';
import { recordHandRun } from '../../jobs/hand-runs.ts';
import { backupJobTargets } from '../../jobs/targets.ts';
import type { VerifyOutcome } from '../../jobs/verify.ts';
import { verifyBackups, verifyResult } from '../../jobs/verify-run.ts';
import type { CliContext } from '../context.ts';
import { formatBytes } from '../format.ts';
import { collect, loadIdentities } from '../identity.ts';
import { parseShare } from '../share.ts';

export const CIPHERTEXT_NOTE =
  'note: no identity given, so encrypted backups were verified at the ciphertext level only: sizes and SHA-256 of the stored objects. Their content (archive against index, per-file hashes) was NOT checked; pass --identity FILE for that.';

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('Re-read stored backups and check them against their manifests and indexes')
    .argument('[what]', 'a job, a backup id or job/id (default: every backup job)')
    .option(
      '--sample <percent>',
      "verify this share of each job's backups (newest always, then least recently verified)",
    )
    .option(
      '-i, --identity <file>',
      'age identity file, to check the content of encrypted backups (repeatable)',
      collect,
    )
    .option('--from <storage>', "verify the copies in this storage (one of the jobs' copies)")
    .option('--json', 'print the outcomes as JSON')
    .addHelpText(
      'after',
      `
Each backup is read back in full: every object's size and SHA-256 against the manifest, then
the archive is decrypted, decompressed and parsed, and every entry compared with the index
(each file present, same SHA-256). Without the identity, encrypted backups get the first check
only, and the output says so. An incremental also needs its chain: every backup before it must
be there with its objects at their recorded sizes, and none may have failed verify in the same
run; a missing one fails it, naming the missing backup and every backup it breaks. --sample
picks backups, not files: checking any file of a backup means reading its whole archive anyway. A storage that cannot be listed fails its jobs only; the
others are still verified. Exit code 1 when any backup fails. The run is recorded as a manual run
of each configured verify job it covered (shown by \`bo status\`); \`bo run JOB\` runs one.

Examples:
  bo verify files1-share -i /root/bo-identity.txt
  bo verify --sample 10%`,
    )
    .action(
      async (
        what: string | undefined,
        opts: { sample?: string; identity?: string[]; json?: boolean; from?: string },
      ) => {
        const services = ctx.services();
        const identities = loadIdentities(opts.identity, ctx.env);
        const sample = opts.sample ? parseShare(opts.sample, '--sample') : undefined;
        if (opts.from) services.storage(opts.from); // an unknown name is a usage error
        // Every backup job, the named one, or none when WHAT is one backup (JOB/ID), not a job.
        const targets =
          what === undefined
            ? backupJobTargets(services, undefined)
            : services.config.jobs[what]
              ? backupJobTargets(services, [what])
              : [];
        const outcomes = await recordHandRun(
          { services, log: ctx.log, signal: ctx.signal },
          { kind: 'verify', targets, sample, identity: Boolean(identities?.length) },
          () =>
            verifyBackups(services, what, undefined, {
              identities,
              sample,
              from: opts.from,
              signal: ctx.signal,
              log: ctx.log,
              onResult: (o) => {
                if (!opts.json) ctx.out.print(line(o));
              },
            }),
          verifyResult,
        );
        const failed = outcomes.filter((o) => o.status === 'failed').length;
        const shallow = outcomes.some((o) => o.depth === 'ciphertext');
        if (failed > 0) ctx.setExit(EXIT.jobFailed);
        if (opts.json) return ctx.out.json({ ciphertextOnly: shallow, backups: outcomes });
        if (outcomes.length === 0) ctx.out.print('no backups to verify');
        else
          ctx.out.print(
            `${outcomes.length - failed} of ${outcomes.length} backup(s) verified${failed ? `, ${failed} FAILED` : ''}`,
          );
        if (shallow) ctx.out.print(CIPHERTEXT_NOTE);
      },
    );
}

function line(o: VerifyOutcome): string {
  const head = `${o.status === 'ok' ? 'ok    ' : o.status === 'gone' ? 'gone  ' : 'FAILED'}  ${o.job}/${o.id}  ${o.depth}`;
  const chain = o.ancestors !== undefined ? `, chain of ${o.ancestors} ancestor(s) present` : '';
  const stats = `${o.entries !== undefined ? `${o.entries} entries, ` : ''}${formatBytes(o.bytes)} read, ${formatDuration(o.durationMs)}${chain}`;
  if (o.status === 'ok') return `${head}  ${stats}`;
  return [head, ...o.problems.map((p) => `        ${p}`)].join('\n');
}
