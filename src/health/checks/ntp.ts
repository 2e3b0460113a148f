import { type ProbeCheck, result } from '../check.ts';
import { span } from '../format.ts';
import { parseChronyTracking, parseProperties } from '../parsers/systemd.ts';
import { gradeAbove } from '../thresholds.ts';
import { type Status, worst } from '../types.ts';

/**
 * NTP sync as the host sees it (timedatectl, else chronyc), and the host clock's offset from
 * bo's own, measured by the probe itself, so clock drift is caught even without either tool.
 */
export const ntpCheck: ProbeCheck<'ntp'> = {
  type: 'probe',
  mayHang: true,
  name: 'ntp',
  command: () =>
    [
      'if [ -d /run/systemd/system ] && command -v timedatectl >/dev/null 2>&1; then echo "@@bo-timedatectl"; timedatectl show 2>&1',
      'elif command -v chronyc >/dev/null 2>&1; then echo "@@bo-chrony"; chronyc -n tracking 2>&1',
      'else echo "@@bo-nontp"; fi',
    ].join('\n'),
  evaluate(out, spec, ctx) {
    const sync = syncState(out.stdout);
    const skew = ctx.clockSkew;
    // Only the part of the offset the measurement cannot explain counts.
    const offset = skew ? Math.max(0, Math.abs(skew.skewMs) - skew.uncertaintyMs) : undefined;
    const bySkew = offset !== undefined ? gradeAbove(offset, spec.warnSkew, spec.critSkew) : 'unknown';
    const bySync = sync.synced === undefined ? 'unknown' : sync.synced ? 'ok' : 'warn';
    const parts = [sync.text];
    if (skew) {
      const dir = skew.skewMs >= 0 ? 'ahead of' : 'behind';
      parts.push(
        offset! < 1000
          ? `clock within ${Math.max(1, Math.round(Math.abs(skew.skewMs) + skew.uncertaintyMs))}ms of bo's`
          : `clock ${span(Math.abs(skew.skewMs))} ${dir} bo's`,
      );
    }
    if (bySync === 'warn' || (bySkew !== 'ok' && bySkew !== 'unknown')) {
      parts.push('check `timedatectl timesync-status` / `chronyc sources`');
    }
    const known = ([bySkew, bySync] as Status[]).filter((s) => s !== 'unknown');
    return [
      result(ctx, 'ntp', {
        status: known.length > 0 ? worst(known) : 'unknown',
        ...(skew ? { value: Math.round(skew.skewMs), unit: 'ms' } : {}),
        threshold: { warn: spec.warnSkew, crit: spec.critSkew },
        message: parts.join('; '),
        ...(sync.synced !== undefined ? { data: { synced: sync.synced } } : {}),
      }),
    ];
  },
};

function syncState(stdout: string): { synced?: boolean; text: string } {
  if (stdout.includes('@@bo-timedatectl')) {
    const p = parseProperties(stdout);
    if (p.NTPSynchronized === 'yes') return { synced: true, text: 'NTP synchronized' };
    if (p.NTPSynchronized === 'no') {
      return {
        synced: false,
        text: p.NTP === 'no' ? 'NTP is switched off (timedatectl set-ntp true)' : 'NTP not synchronized',
      };
    }
  }
  if (stdout.includes('@@bo-chrony')) {
    const c = parseChronyTracking(stdout);
    if (c) return { synced: c.synced, text: c.synced ? 'chrony synchronized' : 'chrony not synchronized' };
  }
  return { text: 'NTP sync state unknown (no timedatectl under systemd, no chronyc)' };
}
