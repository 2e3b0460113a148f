import { type ActiveCheck, result } from '../check.ts';
import { openSocket, readReply } from '../net/socket.ts';

/** Connects from bo's machine; with `banner`, the first line must match (SMTP 220, SSH-2.0…). */
export const tcpCheck: ActiveCheck<'tcp'> = {
  type: 'active',
  name: 'tcp',
  async run(spec, ctx) {
    const address = spec.address ?? ctx.address;
    const subject = spec.address ? `${address}:${spec.port}` : String(spec.port);
    const where = `${address}:${spec.port}`;
    const started = performance.now();
    let sock: Awaited<ReturnType<typeof openSocket>> | undefined;
    try {
      sock = await openSocket(address, spec.port, spec.timeout, ctx.signal);
      const ms = Math.round(performance.now() - started);
      if (spec.banner === undefined) {
        return [
          result(ctx, 'tcp', {
            subject,
            status: 'ok',
            value: ms,
            unit: 'ms',
            message: `${where} accepts connections (${ms}ms)`,
          }),
        ];
      }
      const [line = ''] = await readReply(sock, spec.timeout, () => true);
      const shown = line.slice(0, 100);
      if (!new RegExp(spec.banner).test(line)) {
        return [
          result(ctx, 'tcp', {
            subject,
            status: 'crit',
            value: ms,
            unit: 'ms',
            message: `${where} answered "${shown}", not /${spec.banner}/: is the right service listening?`,
          }),
        ];
      }
      return [
        result(ctx, 'tcp', { subject, status: 'ok', value: ms, unit: 'ms', message: `${where}: ${shown}` }),
      ];
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      return [
        result(ctx, 'tcp', {
          subject,
          status: 'crit',
          message: `${where}: ${(err as Error).message}: is the service running and the firewall open?`,
        }),
      ];
    } finally {
      sock?.destroy();
    }
  },
};
