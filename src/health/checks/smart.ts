import { shellQuote } from '../../plan/shell.ts';
import { type ProbeCheck, result } from '../check.ts';
import { smartVerdict, splitSmartDevices } from '../parsers/smartctl.ts';
import type { Status } from '../types.ts';

/** `smartctl -H` for every disk smartctl finds (or the configured ones). */
export const smartCheck: ProbeCheck<'smart'> = {
  type: 'probe',
  mayHang: true,
  name: 'smart',
  command(spec) {
    const list = spec.devices
      ? `printf '%s\\n' ${spec.devices.map(shellQuote).join(' ')}`
      : "smartctl --scan | sed 's/#.*//'";
    return (
      `${list} | while read -r dev args; do [ -n "$dev" ] || continue; ` +
      `echo "@@bo-dev $dev"; smartctl -H $args "$dev" 2>&1; echo "@@bo-dev-rc $?"; done`
    );
  },
  guard: () => ({ test: 'command -v smartctl >/dev/null 2>&1', otherwise: 'echo "@@bo-nosmartctl"' }),
  evaluate(out, _spec, ctx) {
    if (out.stdout.includes('@@bo-nosmartctl')) {
      return [
        result(ctx, 'smart', {
          status: 'unknown',
          message: 'smartctl is not installed (Debian package smartmontools)',
        }),
      ];
    }
    const devices = splitSmartDevices(out.stdout);
    if (devices.length === 0) {
      return [
        result(ctx, 'smart', {
          status: 'unknown',
          message: 'smartctl --scan found no disks (virtual machine, or needs root)',
        }),
      ];
    }
    return devices.map((d) => {
      const v = smartVerdict(d.output, d.code);
      const status: Status = v.health === 'passed' ? 'ok' : v.health === 'failed' ? 'crit' : 'unknown';
      const message =
        v.health === 'failed'
          ? `${d.device}: ${v.detail}: replace the disk; see \`smartctl -a ${d.device}\``
          : `${d.device}: ${v.detail}`;
      return result(ctx, 'smart', { subject: d.device, status, message });
    });
  },
};
