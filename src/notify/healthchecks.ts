import type { HealthchecksNotifier } from '../config/schema.ts';
import type { SecretValue } from '../config/secret.ts';
import { errorMessage } from '../errors.ts';
import { jobLine } from './message.ts';
import { type Delivery, type Notifier, NotifyError, type NotifyEvent } from './notifier.ts';
import { redactUrl } from './webhook.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Phase = 'start' | 'success' | 'fail';

/**
 * healthchecks.io-style pings for a job. With `url`: `URL/start` when a run starts, `URL` when it
 * succeeds, `URL/fail` when it fails, with the run id as `rid` so start and finish pair up (and
 * the duration shows). With `urls`: each event's own URL, as given (an event without one is not
 * pinged). The body is the summary or the error.
 */
export function createHealthchecksNotifier(name: string, cfg: HealthchecksNotifier): Notifier {
  const target = pingTargets(cfg);
  return {
    name,
    type: 'healthchecks',
    deliveries(event: NotifyEvent): Delivery[] {
      if (event.type !== 'job') return [];
      const t = target(event.phase);
      if (!t) return [];
      const url = new URL(t.url);
      if (t.rid && UUID.test(event.runId)) url.searchParams.set('rid', event.runId);
      return [
        {
          what: `ping ${redactUrl(t.url)} ${event.phase} (${event.job})`,
          send: (signal) => ping(url.href, jobLine(event), cfg.timeout, signal),
        },
      ];
    },
  };
}

function pingTargets(cfg: HealthchecksNotifier): (phase: Phase) => { url: string; rid: boolean } | undefined {
  if (cfg.url !== undefined) {
    const base = reveal(cfg.url).replace(/\/+$/, '');
    return (phase) => ({ url: base + (phase === 'success' ? '' : `/${phase}`), rid: true });
  }
  const urls = cfg.urls;
  return (phase) => {
    const u = urls?.[phase];
    return u === undefined ? undefined : { url: reveal(u), rid: false };
  };
}

function reveal(u: string | SecretValue): string {
  return typeof u === 'string' ? u : u.reveal();
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
