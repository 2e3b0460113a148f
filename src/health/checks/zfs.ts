import { type ProbeCheck, probeFailed, result } from '../check.ts';
import { parseZpoolStatusX } from '../parsers/zpool.ts';

/** `zpool status -x`: only pools with problems are listed. */
export const zfsCheck: ProbeCheck<'zfs'> = {
  type: 'probe',
  mayHang: true,
  name: 'zfs',
  command: () => 'zpool status -x 2>&1',
  guard: () => ({ test: 'command -v zpool >/dev/null 2>&1', otherwise: 'echo "@@bo-nozpool"' }),
  evaluate(out, _spec, ctx) {
    if (out.stdout.includes('@@bo-nozpool')) {
      return [result(ctx, 'zfs', { status: 'unknown', message: 'zpool is not installed (no ZFS here?)' })];
    }
    const s = parseZpoolStatusX(out.stdout);
    switch (s.kind) {
      case 'healthy':
        return [result(ctx, 'zfs', { status: 'ok', message: 'all pools are healthy' })];
      case 'no-pools':
        return [result(ctx, 'zfs', { status: 'unknown', message: 'no ZFS pools imported' })];
      case 'unrecognized':
        return [probeFailed(ctx, 'zfs', { ...out, code: out.code === 0 ? 1 : out.code }, 'zpool status -x')];
      case 'problems':
        return s.pools.map((p) => {
          const dataErrors = p.errors !== undefined && !/^No known data errors/i.test(p.errors);
          const bad = p.state !== 'ONLINE' || dataErrors;
          const detail = [
            p.status,
            dataErrors ? `errors: ${p.errors}` : undefined,
            p.action ? `action: ${p.action}` : undefined,
          ]
            .filter(Boolean)
            .join(' ');
          return result(ctx, 'zfs', {
            subject: p.pool,
            status: bad ? 'crit' : 'warn',
            message: `pool ${p.pool} ${p.state}${detail ? `: ${detail}` : ''}`.slice(0, 400),
            data: { state: p.state },
          });
        });
    }
  },
};
