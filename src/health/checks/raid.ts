import { type ProbeCheck, probeFailed, result } from '../check.ts';
import { type MdArray, parseMdstat } from '../parsers/mdstat.ts';
import type { Status } from '../types.ts';

/** mdadm software RAID from /proc/mdstat: degraded, failed members, rebuilds. */
export const raidCheck: ProbeCheck<'raid'> = {
  type: 'probe',
  mayHang: false,
  name: 'raid',
  command: () => 'if [ -r /proc/mdstat ]; then c /proc/mdstat; else echo "@@bo-nomd"; fi',
  evaluate(out, _spec, ctx) {
    if (out.stdout.includes('@@bo-nomd')) {
      return [
        result(ctx, 'raid', {
          status: 'unknown',
          message: 'no /proc/mdstat: the md driver is not loaded (no software RAID here?)',
        }),
      ];
    }
    if (out.code !== 0) return [probeFailed(ctx, 'raid', out, 'cat /proc/mdstat')];
    const md = parseMdstat(out.stdout);
    if (md.arrays.length === 0) {
      return [result(ctx, 'raid', { status: 'unknown', message: 'no md arrays in /proc/mdstat' })];
    }
    return md.arrays.map((a) => {
      const { status, message } = judge(a);
      return result(ctx, 'raid', {
        subject: a.name,
        status,
        ...(a.working !== undefined ? { value: a.working } : {}),
        unit: 'devices',
        ...(a.expected !== undefined ? { threshold: { crit: a.expected, below: true } } : {}),
        message,
        data: {
          level: a.level ?? '',
          map: a.map ?? '',
          ...(a.sync?.percent !== undefined ? { syncPercent: a.sync.percent } : {}),
        },
      });
    });
  },
};

function judge(a: MdArray): { status: Status; message: string } {
  const what = `${a.name} ${a.level ?? ''}`.trim();
  const counts = a.map ? ` [${a.expected}/${a.working}] [${a.map}]` : '';
  if (!a.active)
    return { status: 'crit', message: `${what} is inactive: check \`mdadm --detail /dev/${a.name}\`` };
  const failed = a.devices.filter((d) => d.failed).map((d) => d.name);
  const degraded =
    failed.length > 0 || (a.working !== undefined && a.expected !== undefined && a.working < a.expected);
  const sync = a.sync;
  const progress = sync
    ? sync.percent !== undefined
      ? `${sync.action} ${sync.percent}%${sync.finishMinutes !== undefined ? `, ~${Math.round(sync.finishMinutes)} min left` : ''}`
      : `${sync.action} ${sync.state}`
    : '';
  if (degraded) {
    const lost = failed.length > 0 ? `; failed: ${failed.join(', ')}` : '';
    if (sync && (sync.action === 'recovery' || sync.action === 'reshape')) {
      return { status: 'warn', message: `${what} degraded${counts}, rebuilding: ${progress}${lost}` };
    }
    return {
      status: 'crit',
      message: `${what} DEGRADED${counts}${lost}: replace the disk and re-add it (\`mdadm --detail /dev/${a.name}\`)`,
    };
  }
  if (sync && sync.action === 'resync')
    return { status: 'warn', message: `${what}${counts} resyncing: ${progress}` };
  const ro = a.readOnly ? ' (auto-read-only)' : '';
  return { status: 'ok', message: `${what}${counts}${ro}${progress ? `; ${progress}` : ''}` };
}
