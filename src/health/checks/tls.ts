import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { CancelledError } from '../../errors.ts';
import { type ActiveCheck, result } from '../check.ts';
import { netReason, openSocket } from '../net/socket.ts';
import { smtpStartTls } from '../net/starttls.ts';
import { gradeBelow } from '../thresholds.ts';
import { type Status, worst } from '../types.ts';

const DAY = 86_400_000;

/** Certificate days to expiry, hostname match and chain, on TLS ports or SMTP STARTTLS. */
export const tlsCheck: ActiveCheck<'tls'> = {
  type: 'active',
  name: 'tls',
  async run(spec, ctx) {
    const address = spec.address ?? ctx.address;
    const name = spec.servername ?? address;
    const starttls =
      spec.starttls === 'auto' ? ([25, 587].includes(spec.port) ? 'smtp' : 'none') : spec.starttls;
    const subject = `${spec.address ? `${address}:` : ''}${spec.port}${starttls === 'smtp' ? ' starttls' : ''}`;
    const where = `${address}:${spec.port}${starttls === 'smtp' ? ' (STARTTLS)' : ''}`;
    let tls: TLSSocket | undefined;
    try {
      const sock = await openSocket(address, spec.port, spec.timeout, ctx.signal);
      if (starttls === 'smtp') await smtpStartTls(sock, spec.timeout).catch((err) => fail(sock, err));
      const ca = spec.ca ? readFileSync(spec.ca, 'utf8') : undefined;
      tls = await handshake(sock, isIP(name) ? undefined : name, ca, spec.timeout, ctx.signal);
      const cert = tls.getPeerCertificate();
      const days = (Date.parse(cert.valid_to) - ctx.now.getTime()) / DAY;
      const problems: Array<[Status, string]> = [];
      const byDays = gradeBelow(days, spec.warnDays, spec.critDays);
      if (days < 0)
        problems.push(['crit', `certificate EXPIRED ${Math.ceil(-days)} day(s) ago (${cert.valid_to})`]);
      else if (byDays !== 'ok')
        problems.push([byDays, `certificate expires in ${Math.floor(days)} day(s) (${cert.valid_to})`]);
      const mismatch = checkServerIdentity(name, cert);
      if (mismatch) problems.push(['crit', `certificate is not valid for ${name} (it names ${names(cert)})`]);
      const chain = tls.authorizationError;
      if (chain && String(chain) !== 'CERT_HAS_EXPIRED') {
        problems.push([
          'crit',
          `certificate not trusted: ${String(chain)}${spec.ca ? '' : ' (private CA? set ca:)'}`,
        ]);
      }
      const status = worst(problems.map(([s]) => s));
      const message =
        problems.length > 0
          ? `${where}: ${problems.map(([, m]) => m).join('; ')}: renew/replace the certificate and reload the service`
          : `${where}: certificate for ${names(cert)} valid ${Math.floor(days)} more days (until ${cert.valid_to})`;
      return [
        result(ctx, 'tls', {
          subject,
          status,
          value: Math.floor(days),
          unit: 'days',
          threshold: { warn: spec.warnDays, crit: spec.critDays, below: true },
          message,
          data: { notAfter: new Date(cert.valid_to).toISOString(), names: names(cert), trusted: !chain },
        }),
      ];
    } catch (err) {
      if (ctx.signal.aborted) throw new CancelledError();
      return [
        result(ctx, 'tls', { subject, status: 'crit', message: `${where}: ${(err as Error).message}` }),
      ];
    } finally {
      tls?.destroy();
    }
  },
};

function fail(sock: { destroy(): void }, err: unknown): never {
  sock.destroy();
  throw err;
}

function handshake(
  socket: import('node:net').Socket,
  servername: string | undefined,
  ca: string | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // Verification is done here, after the handshake, so a bad certificate is described, not just refused.
    const tls = connect({
      socket,
      rejectUnauthorized: false,
      ...(servername ? { servername } : {}),
      ...(ca ? { ca } : {}),
    });
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (err) {
        tls.destroy();
        reject(err);
      } else resolve(tls);
    };
    const onAbort = () => done(new CancelledError());
    const timer = setTimeout(() => done(new Error('TLS handshake timed out')), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    tls.once('secureConnect', () => done());
    tls.once('error', (err) => done(new Error(`TLS handshake failed: ${netReason(err)}`)));
  });
}

function names(cert: PeerCertificate): string {
  const alt = cert.subjectaltname
    ?.split(',')
    .map((s) => s.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  if (alt && alt.length > 0) return alt.slice(0, 4).join(', ') + (alt.length > 4 ? ', …' : '');
  return typeof cert.subject?.CN === 'string' ? cert.subject.CN : 'no name';
}
