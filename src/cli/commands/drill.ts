import type { Command } from 'commander';
import { formatDuration } from '../../config/duration.ts';
import { EXIT } from '../../errors.ts';
import type { DrillOutcome } from '../../jobs/drill.ts';
import { drillJobs, drillResult } from '../../jobs/drill-run.ts';
import { recordHandRun } from '../../jobs/hand-runs.ts';
import { backupJobTargets } from '../../jobs/targets.ts';
import type { CliContext } from '../context.ts';
import { formatBytes } from '../format.ts';
import { collect, loadIdentities } from '../identity.ts';
import { parseShare } from '../share.ts';

interface DrillOpts {
  to?: string;
  toHost?: string;
  backup?: string;
  sample?: string;
  identity?: string[];
  json?: boolean;
  from?: string;
}

export function registerDrill(program: Command, ctx: CliContext): void {
  program
    .command('drill')
    .description('Restore drill: restore the latest backup to a scratch place, prove it, remove it')
    .argument('<jobs...>', 'backup jobs')
    .option('--to <dir>', 'local directory the scratch copy goes under (default: <stateDir>/drill)')
    .option('--to-host <host:dir>', 'restore onto a configured host instead, under this directory')
    .option('-b, --backup <id>', 'drill this backup instead of the latest')
    .option('--sample <percent>', 'restore only this share of the files (at most 256)')
    .option(
      '-i, --identity <file>',
      'age identity file for encrypted backups (repeatable; or $BO_IDENTITY_FILE)',
      collect,
    )
    .option('--from <storage>', "drill the copy in this storage (one of the job's copies)")
    .option('--json', 'print the outcomes as JSON')
    .addHelpText(
      'after',
      `
The backup is restored into a new directory bo-drill-<job>-<random> under the target, every
restored file is compared with the index (while streaming, and again read back from disk), and
the directory is removed. A success is recorded as the job's "last proven restorable", with the
time it took (\`bo status\` shows it); a failure, also one before the restore started (no backups,
storage down), is recorded too. The target directory must exist, or its parent must (it is
never created recursively). Exit code 1 when a drill fails.

Examples:
  bo drill files1-share -i /root/bo-identity.txt
  bo drill files1-share --to-host files1:/var/tmp --sample 5%`,
    )
    .action(async (jobs: string[], opts: DrillOpts) => {
      const services = ctx.services();
      const sample = opts.sample ? parseShare(opts.sample, '--sample') : undefined;
      const identities = loadIdentities(opts.identity, ctx.env);
      const targets = opts.backup ? [] : backupJobTargets(services, jobs);
      const outcomes = await recordHandRun(
        { services, log: ctx.log, signal: ctx.signal },
        { kind: 'drill', targets, sample, identity: Boolean(identities?.length) },
        () =>
          drillJobs(services, jobs, {
            to: opts.to,
            toHost: opts.toHost,
            backup: opts.backup,
            from: opts.from,
            sample,
            identities,
            signal: ctx.signal,
            log: ctx.log,
            onResult: (o) => {
              if (!opts.json) ctx.out.print(line(o));
            },
          }),
        drillResult,
      );
      if (outcomes.some((o) => o.status === 'failed')) ctx.setExit(EXIT.jobFailed);
      if (opts.json) ctx.out.json({ drills: outcomes });
    });
}

function line(o: DrillOutcome): string {
  const what = `${o.job}/${o.id}`;
  const leftover = o.removed
    ? ''
    : `\n        WARNING: the scratch copy ${o.target} could not be removed; remove it by hand`;
  if (o.status === 'ok') {
    return `ok      ${what}  restored ${o.files} file(s), ${formatBytes(o.bytes)}${o.sampled ? ' (sample)' : ''} to ${o.target}, all matched the index; proven restorable in ${formatDuration(o.durationMs)}; scratch copy removed${leftover}`;
  }
  return (
    [
      `FAILED  ${what}  restore drill failed: NOT proven restorable`,
      ...o.problems.map((p) => `        ${p}`),
    ].join('\n') + leftover
  );
}
