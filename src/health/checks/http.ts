import { CancelledError } from '../../errors.ts';
import { type ActiveCheck, result } from '../check.ts';
import { netReason } from '../net/socket.ts';
import { gradeAbove } from '../thresholds.ts';
import { type Status, worst } from '../types.ts';

/** Fetches a URL from bo's machine: status code, optional body text, latency. */
export const httpCheck: ActiveCheck<'http'> = {
  type: 'active',
  name: 'http',
  async run(spec, ctx) {
    const host = ctx.address.includes(':') ? `[${ctx.address}]` : ctx.address;
    const url = spec.url.replaceAll('{address}', host);
    const started = performance.now();
    try {
      const res = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(spec.timeout)]),
        headers: { 'user-agent': 'bo-health' },
      });
      let body = '';
      if (spec.contains !== undefined) body = await res.text();
      else await res.body?.cancel();
      const ms = Math.round(performance.now() - started);
      const okStatus = spec.status ? spec.status.includes(res.status) : res.status >= 200 && res.status < 400;
      const problems: Array<[Status, string]> = [];
      if (!okStatus) problems.push(['crit', `status ${res.status} ${res.statusText}`.trim()]);
      if (spec.contains !== undefined && !body.includes(spec.contains)) {
        problems.push(['crit', `body lacks "${spec.contains}"`]);
      }
      const slow = gradeAbove(ms, spec.warnLatency, undefined);
      if (slow !== 'ok') problems.push([slow, `slow: ${ms}ms`]);
      const status = worst(problems.map(([s]) => s));
      return [
        result(ctx, 'http', {
          subject: url,
          status,
          value: ms,
          unit: 'ms',
          threshold: { warn: spec.warnLatency },
          message: problems.length > 0 ? problems.map(([, m]) => m).join('; ') : `${res.status} in ${ms}ms`,
          data: { httpStatus: res.status },
        }),
      ];
    } catch (err) {
      if (ctx.signal.aborted) throw new CancelledError();
      const e = err as Error;
      const reason =
        e.name === 'TimeoutError'
          ? `no response within ${Math.round(spec.timeout / 1000)}s`
          : netReason(e.cause ?? e);
      return [result(ctx, 'http', { subject: url, status: 'crit', message: reason })];
    }
  },
};
