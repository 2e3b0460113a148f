import { firstLine, type ProbeCheck, result } from '../check.ts';
import { span } from '../format.ts';
import { parseChronyTracking, parseProperties } from '../parsers/systemd.ts';
import { gradeAbove } from '../thresholds.ts';
import { type Status, worst } from '../types.ts';

/**
 * NTP sync as the host sees it (timedatectl under systemd; chronyc when timedatectl is missing
 * or fails), and the host clock's offset from bo's own, measured by the probe itself, so clock
 * drift is caught even without either tool.
 */
export const ntpCheck: ProbeCheck<'ntp'> = {
  type: 'probe',
  mayHang: true,
  name: 'ntp',
  command: () =>
    [
      '_n=1',
      'if [ -d /run/systemd/system ] && command -v timedatectl >/dev/null 2>&1; then echo "@@bo-timedatectl"; timedatectl show 2>&1; _n=$?; echo "@@bo-timedatectl-rc $_n"; fi',
      'if [ "$_n" != 0 ]; then if command -v chronyc >/dev/null 2>&1; then echo "@@bo-chrony"; chronyc -n tracking 2>&1; else echo "@@bo-nochronyc"; fi; fi',
    ].join('\n'),
  // timedatectl needs systemd (timedated); without it only chronyc can tell.
  guard: () => ({
    test: '[ -d /run/systemd/system ] || command -v chronyc >/dev/null 2>&1',
    otherwise: 'echo "@@bo-nontp"',
  }),
  group: 'systemd',
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
  const tried: string[] = [];
  const td = section(stdout, '@@bo-timedatectl');
  if (td !== undefined) {
    const p = parseProperties(td);
    if (p.NTPSynchronized === 'yes') return { synced: true, text: 'NTP synchronized' };
    if (p.NTPSynchronized === 'no') {
      return {
        synced: false,
        text: p.NTP === 'no' ? 'NTP is switched off (timedatectl set-ntp true)' : 'NTP not synchronized',
      };
    }
    tried.push(`timedatectl failed (${firstLine(td) || 'no output'})`);
  }
  const chrony = section(stdout, '@@bo-chrony');
  if (chrony !== undefined) {
    const c = parseChronyTracking(chrony);
    if (c) return { synced: c.synced, text: c.synced ? 'chrony synchronized' : 'chrony not synchronized' };
    tried.push(`chronyc failed (${firstLine(chrony) || 'no output'})`);
  } else if (stdout.includes('@@bo-nochronyc')) tried.push('no chronyc');
  if (stdout.includes('@@bo-nontp')) tried.push('no systemd (for timedatectl) and no chronyc');
  return { text: `NTP sync state unknown: ${tried.join(', ') || 'no output'}` };
}

/** The lines after `marker` up to the next @@bo- line. */
function section(stdout: string, marker: string): string | undefined {
  const lines = stdout.split('\n');
  const i = lines.indexOf(marker);
  if (i < 0) return undefined;
  const rest = lines.slice(i + 1);
  const end = rest.findIndex((l) => l.startsWith('@@bo-'));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}
