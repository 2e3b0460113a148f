import type { Config, Notifier as NotifierConfig } from '../config/schema.ts';
import { createEmailNotifier } from './email.ts';
import { createHealthchecksNotifier } from './healthchecks.ts';
import type { Notifier } from './notifier.ts';
import { createWebhookNotifier } from './webhook.ts';

type Factories = {
  [T in NotifierConfig['type']]: (name: string, cfg: Extract<NotifierConfig, { type: T }>) => Notifier;
};

/** Every notifier type, by `type:` in the config. */
export const notifierFactories: Factories = {
  webhook: createWebhookNotifier,
  email: createEmailNotifier,
  healthchecks: createHealthchecksNotifier,
};

export function createNotifier(name: string, cfg: NotifierConfig): Notifier {
  const make = notifierFactories[cfg.type] as (name: string, cfg: NotifierConfig) => Notifier;
  return make(name, cfg);
}

/** The named notifiers from `notify`; names were checked when the config was loaded. */
export function notifiersFor(config: Config, names: readonly string[]): Notifier[] {
  return names.flatMap((n) => {
    const cfg = config.notify[n];
    return cfg ? [createNotifier(n, cfg)] : [];
  });
}
