import type { WebhookNotifier } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { alertLine, jobLine, what, worstFirst } from './message.ts';
import {
  type Alert,
  type Delivery,
  eventName,
  type Notifier,
  NotifyError,
  type NotifyEvent,
} from './notifier.ts';

const EMOJI = { crit: ':red_circle:', warn: ':large_yellow_circle:', ok: ':large_green_circle:' } as const;

/**
 * POSTs JSON: one request per alert (each with a stable `key` a receiver can deduplicate on),
 * one per job event. `format: slack` sends {"text": …}, which Slack, Mattermost and
 * Rocket.Chat incoming webhooks all accept: a run's alerts as one message, a line each, worst
 * first (a rack going down is one chat message, not forty).
 */
export function createWebhookNotifier(name: string, cfg: WebhookNotifier): Notifier {
  const url = typeof cfg.url === 'string' ? cfg.url : cfg.url.reveal();
  const shown = redactUrl(url);
  const post = (payload: unknown, label: string): Delivery => ({
    what: `POST ${shown} (${label})`,
    send: (signal) => postJson(url, payload, cfg, signal),
  });
  return {
    name,
    type: 'webhook',
    deliveries(event: NotifyEvent) {
      if (!cfg.events.includes(eventName(event))) return [];
      if (event.type === 'job') {
        const payload = cfg.format === 'slack' ? { text: jobLine(event) } : { source: 'bo', ...event };
        return [post(payload, `${event.job} ${event.phase}`)];
      }
      if (cfg.format === 'slack') {
        const text = worstFirst(event.alerts)
          .map((t) => `${EMOJI[t.to]} ${alertLine(t)}`)
          .join('\n');
        const label =
          event.alerts.length === 1
            ? `${event.alerts[0]!.host} ${what(event.alerts[0]!)}`
            : `${event.alerts.length} alerts`;
        return [{ ...post({ text }, label), alerts: event.alerts.map((_, i) => i) }];
      }
      return event.alerts.map((t, i) => ({ ...post(alertJson(t), `${t.host} ${what(t)}`), alerts: [i] }));
    },
  };
}

function alertJson(t: Alert) {
  return {
    source: 'bo',
    type: 'health',
    key: `${t.host}/${t.check}/${t.subject}`,
    kind: t.kind,
    host: t.host,
    check: t.check,
    subject: t.subject,
    from: t.from,
    to: t.to,
    status: t.to,
    message: t.result.message,
    ...(t.result.value !== undefined ? { value: t.result.value, unit: t.result.unit } : {}),
    at: new Date(t.at).toISOString(),
    since: new Date(t.since).toISOString(),
  };
}

async function postJson(
  url: string,
  payload: unknown,
  cfg: WebhookNotifier,
  signal: AbortSignal,
): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'bo' };
  for (const [k, v] of Object.entries(cfg.headers)) headers[k] = v.reveal();
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(payload),
      signal: AbortSignal.any([signal, AbortSignal.timeout(cfg.timeout)]),
    });
  } catch (err) {
    throw new NotifyError(`webhook request failed: ${errorMessage((err as Error).cause ?? err)}`, true, {
      cause: err,
    });
  }
  await res.body?.cancel();
  if (!res.ok) {
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new NotifyError(`webhook answered ${res.status} ${res.statusText}`.trim(), retryable);
  }
}

/** Chat webhook URLs carry their token in the path: show scheme and host only. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}
