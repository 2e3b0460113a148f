import type { EmailNotifier } from '../config/schema.ts';
import { CancelledError, errorMessage } from '../errors.ts';
import { body, title } from './message.ts';
import { type Delivery, eventName, type Notifier, NotifyError, type NotifyEvent } from './notifier.ts';

/** One mail per event: a run's alerts together (no mail storm when a rack goes down), or a failed job. */
export function createEmailNotifier(name: string, cfg: EmailNotifier): Notifier {
  return {
    name,
    type: 'email',
    deliveries(event: NotifyEvent): Delivery[] {
      if (!cfg.events.includes(eventName(event))) return [];
      const subject = title(event);
      return [
        {
          what: `mail via ${cfg.host}:${cfg.port} to ${cfg.to.join(', ')} (${subject})`,
          send: (signal) => sendMail(cfg, subject, body(event), signal),
        },
      ];
    },
  };
}

async function sendMail(
  cfg: EmailNotifier,
  subject: string,
  text: string,
  signal: AbortSignal,
): Promise<void> {
  const password = cfg.password?.reveal();
  const { createTransport } = await import('nodemailer'); // loaded only when mail is sent
  const transport = createTransport({
    host: cfg.host,
    port: cfg.port,
    secure: cfg.secure,
    requireTLS: cfg.requireTls,
    connectionTimeout: cfg.timeout,
    greetingTimeout: cfg.timeout,
    socketTimeout: cfg.timeout,
    ...(cfg.user ? { auth: { user: cfg.user, pass: password ?? '' } } : {}),
  });
  // nodemailer has no AbortSignal: closing the transport is how a send is abandoned.
  const onAbort = () => transport.close();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await transport.sendMail({
      from: cfg.from,
      to: cfg.to,
      subject,
      text,
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
  } catch (err) {
    if (signal.aborted) throw new CancelledError();
    const code = (err as { responseCode?: number }).responseCode;
    // 5xx SMTP replies are permanent (bad recipient, auth refused); anything else may pass later.
    throw new NotifyError(`SMTP ${cfg.host}:${cfg.port}: ${errorMessage(err)}`, !(code && code >= 500), {
      cause: err,
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    transport.close();
  }
}
