import { type ProbeCheck, probeFailed, result } from '../check.ts';
import { span } from '../format.ts';
import { parseUptime } from '../parsers/proc.ts';

/** Time since boot; a recent reboot nobody planned is worth a look. */
export const uptimeCheck: ProbeCheck<'uptime'> = {
  type: 'probe',
  mayHang: false,
  name: 'uptime',
  command: () => 'c /proc/uptime',
  evaluate(out, spec, ctx) {
    const s = parseUptime(out.stdout);
    if (s === undefined) return [probeFailed(ctx, 'uptime', out, 'cat /proc/uptime')];
    const ms = s * 1000;
    const recent = ms < spec.recentReboot;
    return [
      result(ctx, 'uptime', {
        status: recent ? 'warn' : 'ok',
        value: Math.round(s),
        unit: 's',
        threshold: { warn: Math.round(spec.recentReboot / 1000), below: true },
        message: recent
          ? `rebooted ${span(ms)} ago: planned? see \`journalctl -b -1 -e\` for why it went down`
          : `up ${span(ms)}`,
      }),
    ];
  },
};
