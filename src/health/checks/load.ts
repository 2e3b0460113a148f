import { type ProbeCheck, probeFailed, result } from '../check.ts';
import { parseLoad } from '../parsers/proc.ts';
import { gradeAbove, thresholdText } from '../thresholds.ts';

/** 5-minute load average per core. */
export const loadCheck: ProbeCheck<'load'> = {
  type: 'probe',
  mayHang: false,
  name: 'load',
  command: () => 'nproc; c /proc/loadavg',
  evaluate(out, spec, ctx) {
    const l = parseLoad(out.stdout);
    if (!l) return [probeFailed(ctx, 'load', out, 'nproc; cat /proc/loadavg')];
    const perCore = l.load5 / l.cores;
    const status = gradeAbove(perCore, spec.warn, spec.crit);
    let message = `load ${[l.load1, l.load5, l.load15].map((n) => n.toFixed(2)).join(' ')} on ${l.cores} core${l.cores === 1 ? '' : 's'} (${perCore.toFixed(2)}/core over 5 min`;
    message +=
      status === 'ok'
        ? ')'
        : `, ${thresholdText(status, spec)}): look at \`top -o %CPU\` and for processes stuck in D state (I/O)`;
    return [
      result(ctx, 'load', {
        status,
        value: Math.round(perCore * 100) / 100,
        unit: 'load/core',
        threshold: { warn: spec.warn, crit: spec.crit },
        message,
        data: { load1: l.load1, load5: l.load5, load15: l.load15, cores: l.cores },
      }),
    ];
  },
};
