import { shellQuote } from '../../plan/shell.ts';
import { firstLine, type ProbeCheck, result } from '../check.ts';
import { parseFailedUnits, parseIsActive } from '../parsers/systemd.ts';
import type { CheckResult } from '../types.ts';

/** Failed units, and the configured units that must be active. */
export const systemdCheck: ProbeCheck<'systemd'> = {
  type: 'probe',
  mayHang: true,
  name: 'systemd',
  command(spec) {
    const lines = [
      'systemctl list-units --failed --plain --no-legend --no-pager --full 2>&1',
      'echo "@@bo-rc $?"',
    ];
    if (spec.units.length > 0) {
      lines.push('echo "@@bo-active"', `systemctl is-active -- ${spec.units.map(shellQuote).join(' ')} 2>&1`);
    }
    return lines.join('\n');
  },
  // sd_booted(3): systemd is the init system exactly when this directory exists.
  guard: () => ({
    test: '[ -d /run/systemd/system ]',
    otherwise: 'read -r _i </proc/1/comm; echo "@@bo-nosystemd $_i"',
  }),
  // One timeout and one sh for both: they talk to the same D-Bus.
  group: 'systemd',
  evaluate(out, spec, ctx) {
    const none = /^@@bo-nosystemd ?(.*)$/m.exec(out.stdout);
    if (none) {
      const init = none[1]?.trim() || 'unknown';
      return [
        result(ctx, 'systemd', {
          status: 'unknown',
          message: `systemd is not the init system here (PID 1 is ${init}): cannot list failed units`,
        }),
      ];
    }
    const [failedPart = '', activePart] = out.stdout.split(/^@@bo-active$/m);
    const rc = /^@@bo-rc (\d+)$/m.exec(failedPart);
    const listing = failedPart.replace(/^@@bo-rc \d+$/m, '');
    if (rc?.[1] !== '0') {
      return [
        result(ctx, 'systemd', {
          status: 'unknown',
          message: `systemctl failed: ${firstLine(listing) || 'no output'}`,
        }),
      ];
    }
    const failed = parseFailedUnits(listing).filter((u) => !spec.ignore.includes(u.unit));
    const results: CheckResult[] = [
      result(ctx, 'systemd', {
        subject: 'failed',
        status: failed.length > 0 ? 'crit' : 'ok',
        value: failed.length,
        unit: 'units',
        threshold: { crit: 1 },
        message:
          failed.length > 0
            ? `${failed.length} failed unit${failed.length === 1 ? '' : 's'}: ${failed.map((u) => u.unit).join(', ')}: see \`systemctl status ${failed[0]!.unit}\` and \`journalctl -u ${failed[0]!.unit} -e\``
            : 'no failed units',
        data: { units: failed.map((u) => u.unit).join(' ') },
      }),
    ];
    if (spec.units.length > 0) {
      for (const { unit, state } of parseIsActive(spec.units, activePart ?? '')) {
        results.push(
          result(ctx, 'systemd', {
            subject: unit,
            status:
              state === 'active' ? 'ok' : state === 'activating' || state === 'reloading' ? 'warn' : 'crit',
            message:
              state === 'active'
                ? `${unit} is active`
                : `${unit} is ${state}: \`systemctl status ${unit}\`, \`journalctl -u ${unit} -e\``,
          }),
        );
      }
    }
    return results;
  },
};
