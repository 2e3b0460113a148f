import type { HealthchecksNotifier } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { jobLine } from './message.ts';
import { type Delivery, type Notifier, NotifyError, type NotifyEvent } from './notifier.ts';
import { redactUrl } from './webhook.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * healthchecks.io-style pings for a job: `URL/start` when a run starts, `URL` when it succeeds,
 * `URL/fail` when it fails, with the run id as `rid` so start and finish pair up (and the
 * duration shows), and the summary or error as the body.
 */
export function createHealthchecksNotifier(name: string, cfg: HealthchecksNotifier): Notifier {
  const base = (typeof cfg.url === 'string' ? cfg.url : cfg.url.reveal()).replace(/\/+$/, '');
  return {
    name,
    type: 'healthchecks',
    deliveries(event: NotifyEvent): Delivery[] {
      if (event.type !== 'job') return [];
      const suffix = event.phase === 'start' ? '/start' : event.phase === 'fail' ? '/fail' : '';
      const url = new URL(base + suffix);
      if (UUID.test(event.runId)) url.searchParams.set('rid', event.runId);
      return [
        {
          what: `ping ${redactUrl(base)} ${event.phase} (${event.job})`,
          send: (signal) => ping(url.href, jobLine(event), cfg.timeout, signal),
        },
      ];
    },
  };
}

async function ping(url: string, text: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: text,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'user-agent': 'bo' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    throw new NotifyError(`ping failed: ${errorMessage((err as Error).cause ?? err)}`, true, { cause: err });
  }
  await res.body?.cancel();
  if (!res.ok) throw new NotifyError(`ping answered ${res.status}`, res.status >= 500 || res.status === 429);
}
