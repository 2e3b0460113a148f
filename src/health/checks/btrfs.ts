import { type ProbeCheck, result } from '../check.ts';
import { parseBtrfsProbe } from '../parsers/btrfs.ts';

/** Non-zero `btrfs device stats` counters: I/O errors, checksum mismatches, lost writes. */
export const btrfsCheck: ProbeCheck<'btrfs'> = {
  type: 'probe',
  mayHang: true,
  name: 'btrfs',
  command: () =>
    `awk '$3=="btrfs"{print $2}' /proc/mounts | sort -u | while read -r m; do ` +
    `m=$(printf '%b' "$m"); echo "@@bo-mnt $m"; btrfs device stats "$m" 2>&1; done`,
  guard: () => ({ test: 'command -v btrfs >/dev/null 2>&1', otherwise: 'echo "@@bo-nobtrfs"' }),
  evaluate(out, _spec, ctx) {
    if (out.stdout.includes('@@bo-nobtrfs')) {
      return [result(ctx, 'btrfs', { status: 'unknown', message: 'btrfs-progs is not installed' })];
    }
    const p = parseBtrfsProbe(out.stdout);
    if (p.mounts === 0)
      return [result(ctx, 'btrfs', { status: 'unknown', message: 'no btrfs filesystem mounted' })];
    const results = p.devices.map((d) => {
      const bad = Object.entries(d.counters).filter(([, n]) => n > 0);
      const total = bad.reduce((a, [, n]) => a + n, 0);
      return result(ctx, 'btrfs', {
        subject: d.device,
        status: bad.length > 0 ? 'crit' : 'ok',
        value: total,
        unit: 'errors',
        threshold: { crit: 1 },
        message:
          bad.length > 0
            ? `${d.device} (${d.mount}): ${bad.map(([k, n]) => `${k} ${n}`).join(', ')}: check dmesg and the disk, run \`btrfs scrub start ${d.mount}\`, then reset with \`btrfs device stats -z\``
            : `${d.device} (${d.mount}): no errors`,
        data: d.counters,
      });
    });
    for (const f of p.failures) {
      results.push(
        result(ctx, 'btrfs', {
          subject: f.mount,
          status: 'unknown',
          message: `cannot read stats of ${f.mount}: ${f.reason}`,
        }),
      );
    }
    return results;
  },
};
