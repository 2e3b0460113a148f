import type { Clock } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type Notifier, NotifyError, type NotifyEvent } from './notifier.ts';

export interface DispatchOptions {
  log: Logger;
  clock: Clock;
  /** Stops retrying (and pending sends) when aborted. */
  signal?: AbortSignal | undefined;
  /** Tries per delivery, including the first. */
  attempts?: number;
  /** Delay before the first retry; doubles each time. */
  retryDelayMs?: number;
}

export interface DeliveryOutcome {
  notifier: string;
  what: string;
  ok: boolean;
  attempts: number;
  error?: string;
  /** The alerts (indexes in the health event) the delivery carried; absent: all. */
  alerts?: readonly number[];
}

/**
 * Sends an event through every notifier at once, each delivery retried with backoff on its
 * own. Never throws: a notifier that fails is logged and reported in the outcomes, and the job
 * that raised the event carries on.
 */
export async function dispatch(
  notifiers: readonly Notifier[],
  event: NotifyEvent,
  opts: DispatchOptions,
): Promise<DeliveryOutcome[]> {
  const signal = opts.signal ?? new AbortController().signal;
  const attempts = opts.attempts ?? 4;
  const base = opts.retryDelayMs ?? 2000;
  const jobs: Array<Promise<DeliveryOutcome>> = [];
  for (const n of notifiers) {
    let deliveries: ReturnType<Notifier['deliveries']>;
    try {
      deliveries = n.deliveries(event);
    } catch (err) {
      opts.log.error(
        { notifier: n.name, err },
        'Notifier failed to prepare a message (this is a bug, please report it)',
      );
      continue;
    }
    for (const d of deliveries) {
      const covers = d.alerts ? { alerts: d.alerts } : {};
      jobs.push(
        (async (): Promise<DeliveryOutcome> => {
          let last = '';
          for (let i = 1; i <= attempts; i++) {
            try {
              await d.send(signal);
              if (i > 1)
                opts.log.info(
                  { notifier: n.name, what: d.what, attempt: i },
                  'Notification delivered after retry',
                );
              return { notifier: n.name, what: d.what, ok: true, attempts: i, ...covers };
            } catch (err) {
              last = errorMessage(err);
              const retry =
                i < attempts && !signal.aborted && !(err instanceof NotifyError && !err.retryable);
              opts.log.warn(
                { notifier: n.name, what: d.what, attempt: i, error: last, retry },
                'Notification failed',
              );
              if (!retry)
                return { notifier: n.name, what: d.what, ok: false, attempts: i, error: last, ...covers };
              try {
                await opts.clock.sleep(base * 2 ** (i - 1), signal);
              } catch {
                return { notifier: n.name, what: d.what, ok: false, attempts: i, error: last, ...covers };
              }
            }
          }
          return { notifier: n.name, what: d.what, ok: false, attempts, error: last, ...covers };
        })(),
      );
    }
  }
  const outcomes = await Promise.all(jobs);
  for (const o of outcomes) {
    if (!o.ok)
      opts.log.error({ notifier: o.notifier, what: o.what, error: o.error }, 'Notification given up');
  }
  return outcomes;
}
