import { formatBytes } from '../../sizes.ts';
import { type ProbeCheck, probeFailed, result } from '../check.ts';
import { pct } from '../format.ts';
import { parseMeminfo } from '../parsers/proc.ts';
import { gradeAbove, thresholdText } from '../thresholds.ts';
import type { CheckResult } from '../types.ts';

/** Memory use from MemAvailable (what can be had without swapping), and swap use. */
export const memoryCheck: ProbeCheck<'memory'> = {
  type: 'probe',
  mayHang: false,
  name: 'memory',
  command: () => 'c /proc/meminfo',
  evaluate(out, spec, ctx) {
    const m = parseMeminfo(out.stdout);
    if (!m) return [probeFailed(ctx, 'memory', out, 'cat /proc/meminfo')];
    const used = ((m.totalBytes - m.availableBytes) / m.totalBytes) * 100;
    const memStatus = gradeAbove(used, spec.warn, spec.crit);
    const results: CheckResult[] = [
      result(ctx, 'memory', {
        subject: 'ram',
        status: memStatus,
        value: Math.round(used * 10) / 10,
        unit: '%',
        threshold: { warn: spec.warn, crit: spec.crit },
        message:
          `${pct(used)} of ${formatBytes(m.totalBytes)} RAM in use, ${formatBytes(m.availableBytes)} available` +
          (memStatus === 'ok'
            ? ''
            : ` (${thresholdText(memStatus, spec, '%')}): see \`ps aux --sort=-rss | head\``),
        data: { total: m.totalBytes, available: m.availableBytes },
      }),
    ];
    if (m.swapTotalBytes > 0) {
      const swapUsed = ((m.swapTotalBytes - m.swapFreeBytes) / m.swapTotalBytes) * 100;
      const t = { warn: spec.swapWarn, crit: spec.swapCrit };
      const status = gradeAbove(swapUsed, t.warn, t.crit);
      results.push(
        result(ctx, 'memory', {
          subject: 'swap',
          status,
          value: Math.round(swapUsed * 10) / 10,
          unit: '%',
          threshold: t,
          message:
            `${pct(swapUsed)} of ${formatBytes(m.swapTotalBytes)} swap in use` +
            (status === 'ok' ? '' : ` (${thresholdText(status, t, '%')}): the host is short of memory`),
          data: { total: m.swapTotalBytes, free: m.swapFreeBytes },
        }),
      );
    }
    return results;
  },
};
