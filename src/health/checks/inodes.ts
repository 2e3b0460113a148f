import { type ProbeCheck, probeFailed, result } from '../check.ts';
import { pct } from '../format.ts';
import { PSEUDO_FS, parseDf } from '../parsers/df.ts';
import { gradeAbove, thresholdText } from '../thresholds.ts';
import { dfCommand, dfFallback } from './disk.ts';
import { selectMounts } from './mounts.ts';

/** Used inodes per mount: a spool of millions of small files runs out of them before bytes. */
export const inodesCheck: ProbeCheck<'inodes'> = {
  type: 'probe',
  mayHang: true,
  name: 'inodes',
  command: dfCommand,
  fallback: dfFallback,
  evaluate(out, spec, ctx) {
    const rows = parseDf(out.stdout).inodes;
    if (rows.length === 0) return [probeFailed(ctx, 'inodes', out, 'df -i')];
    // btrfs and some network filesystems allocate inodes dynamically and report 0: nothing to run out of.
    return selectMounts(rows, spec, (r) => !PSEUDO_FS.has(r.type))
      .filter((r) => r.inodes > 0)
      .map((r) => {
        const used = (r.used / r.inodes) * 100;
        const status = gradeAbove(used, spec.warn, spec.crit);
        let message = `${pct(used)} of ${r.inodes.toLocaleString('en-US')} inodes used`;
        if (status !== 'ok') {
          message += ` (${thresholdText(status, spec, '%')}); look for directories of many small files (mail spools, caches, sessions)`;
        }
        return result(ctx, 'inodes', {
          subject: r.mount,
          status,
          value: Math.round(used * 10) / 10,
          unit: '%',
          threshold: { warn: spec.warn, crit: spec.crit },
          message,
          data: { used: r.used, inodes: r.inodes },
        });
      });
  },
};
