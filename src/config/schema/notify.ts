/** `notify.<name>`: webhook, email and healthchecks-style notifiers (src/notify/). */
import { z } from 'zod';
import { unknownTag } from '../messages.ts';
import type { Resolved } from '../resolve-secrets.ts';
import { Duration, Port, Secret } from './common.ts';

const NotifyEvents = z
  .array(z.enum(['health', 'job-start', 'job-success', 'job-failed']))
  .min(1)
  .describe('What is sent: health alerts, and job runs that start, succeed or fail');
const UrlOrSecret = z.union([z.url(), Secret]);

export const WebhookNotifier = z.strictObject({
  type: z.literal('webhook'),
  url: UrlOrSecret.describe('Where to POST; chat webhook URLs hold a token, so prefer { env } or { file }'),
  format: z
    .enum(['json', 'slack'])
    .default('json')
    .describe('json: a bo event document; slack: {"text": …} (Slack, Mattermost, Rocket.Chat)'),
  headers: z.record(z.string(), Secret).default({}).describe('Extra request headers, e.g. Authorization'),
  events: NotifyEvents.default(['health', 'job-failed']),
  timeout: Duration.prefault('10s'),
});
export type WebhookNotifier = Resolved<z.infer<typeof WebhookNotifier>>;
export const EmailNotifier = z.strictObject({
  type: z.literal('email'),
  host: z.string().min(1).describe('SMTP server'),
  port: Port.default(587),
  secure: z
    .boolean()
    .default(false)
    .describe('TLS from the first byte (port 465); else STARTTLS when offered'),
  requireTls: z.boolean().default(false).describe('Refuse to send unless STARTTLS succeeds'),
  user: z.string().optional(),
  password: Secret.optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  events: NotifyEvents.default(['health', 'job-failed']),
  timeout: Duration.prefault('30s'),
});
export type EmailNotifier = Resolved<z.infer<typeof EmailNotifier>>;
export const HealthchecksNotifier = z
  .strictObject({
    type: z.literal('healthchecks'),
    url: UrlOrSecret.optional().describe(
      'Ping URL (healthchecks.io style): success → URL, start → URL/start, failure → URL/fail, each with the run id as rid',
    ),
    urls: z
      .strictObject({
        start: UrlOrSecret.optional().describe('Pinged when a run starts (none when absent)'),
        success: UrlOrSecret.describe('Pinged when a run succeeds'),
        fail: UrlOrSecret.optional().describe('Pinged when a run fails (none when absent)'),
      })
      .optional()
      .describe(
        'Instead of url: an explicit URL per event (other monitors, or separate checks), used as given',
      ),
    timeout: Duration.prefault('10s'),
  })
  .refine((n) => (n.url === undefined) !== (n.urls === undefined), {
    message: 'give either url (the base ping URL) or urls (start/success/fail), not both',
  });
export type HealthchecksNotifier = Resolved<z.infer<typeof HealthchecksNotifier>>;
export const Notifier = z.discriminatedUnion('type', [WebhookNotifier, EmailNotifier, HealthchecksNotifier], {
  error: unknownTag('notifier type'),
});
export type Notifier = Resolved<z.infer<typeof Notifier>>;
