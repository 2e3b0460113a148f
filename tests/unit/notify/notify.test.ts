import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Notifier as NotifierSchema } from '../../../src/config/schema.ts';
import type { Transition } from '../../../src/health/transitions.ts';
import { silentLogger } from '../../../src/log.ts';
import { dispatch } from '../../../src/notify/dispatch.ts';
import { body, title } from '../../../src/notify/message.ts';
import { type JobEvent, type Notifier, NotifyError } from '../../../src/notify/notifier.ts';
import { createNotifier } from '../../../src/notify/registry.ts';
import { redactUrl } from '../../../src/notify/webhook.ts';

const H = 3_600_000;

function t(
  host: string,
  check: string,
  subject: string,
  from: Transition['from'],
  to: Transition['to'],
  kind: Transition['kind'] = 'change',
): Transition {
  return {
    host,
    check,
    subject,
    from,
    to,
    kind,
    at: 10 * H,
    since: kind === 'reminder' ? 4 * H : 10 * H,
    result: { host, check, subject, status: to, message: `${check} is ${to}` },
  };
}

const job: JobEvent = {
  type: 'job',
  phase: 'fail',
  job: 'files1-share',
  kind: 'backup',
  runId: 'r1',
  host: 'files1',
  message: 'tar exited 2',
  durationMs: 95_000,
  at: '2025-11-22T02:01:35Z',
};

/** A clock whose sleeps return at once but are recorded. */
function fakeClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => new Date(0), sleep: async (ms) => void slept.push(ms) };
}

function notifier(name: string, sends: Array<() => Promise<void>>): Notifier & { calls: number } {
  const n = {
    name,
    type: 'webhook' as const,
    calls: 0,
    deliveries: () =>
      sends.map((send, i) => ({
        what: `${name}#${i}`,
        send: async () => {
          n.calls++;
          await send();
        },
      })),
  };
  return n;
}

describe('messages', () => {
  it('titles and bodies for one alert, many alerts, reminders and jobs', () => {
    expect(
      title({ type: 'health', alerts: [t('files1', 'disk', '/srv', 'warn', 'crit')], summary: 's' }),
    ).toBe('[bo] CRIT files1 disk /srv');
    const many = {
      type: 'health' as const,
      summary: '2 crit on 3 hosts',
      alerts: [
        t('files1', 'disk', '/srv', 'ok', 'crit'),
        t('mail1', 'tls', '465', 'crit', 'ok'),
        t('mail2', 'reachable', '', 'crit', 'crit', 'reminder'),
      ],
    };
    expect(title(many)).toBe('[bo] 1 crit, 1 recovered, 1 still crit: files1, mail1, mail2');
    expect(body(many).split('\n')).toEqual([
      'CRIT files1 disk /srv: disk is crit',
      'STILL CRIT for 6h mail2 reachable: reachable is crit',
      'RECOVERED (was crit) mail1 tls 465: tls is ok',
      '',
      'Fleet: 2 crit on 3 hosts',
      '',
    ]);
    expect(title(job)).toBe('[bo] backup job files1-share on files1 FAILED after 1m35s');
  });

  it('webhook URLs are shown without their token', () => {
    expect(redactUrl('https://hooks.slack.com/services/T00/B00/XXXX')).toBe('https://hooks.slack.com/…');
  });
});

describe('notifiers', () => {
  const make = (cfg: unknown) => createNotifier('n', parseResolved(NotifierSchema, cfg));
  const health = {
    type: 'health' as const,
    summary: 's',
    alerts: [t('a', 'disk', '/', 'ok', 'warn'), t('b', 'load', '', 'ok', 'crit')],
  };

  it('webhook: one request per alert, job events as configured', () => {
    const hook = make({ type: 'webhook', url: 'https://example.com/hook' });
    expect(hook.deliveries(health).map((d) => d.what)).toEqual([
      'POST https://example.com/… (a disk /)',
      'POST https://example.com/… (b load)',
    ]);
    expect(hook.deliveries(health).map((d) => d.alerts)).toEqual([[0], [1]]);
    expect(hook.deliveries(job)).toHaveLength(1);
    expect(hook.deliveries({ ...job, phase: 'success' })).toHaveLength(0);
  });

  it('webhook, slack format: one message per run carrying every alert', () => {
    const slack = make({ type: 'webhook', url: 'https://hooks.example.com/T/B/x', format: 'slack' });
    const ds = slack.deliveries(health);
    expect(ds.map((d) => [d.what, d.alerts])).toEqual([
      ['POST https://hooks.example.com/… (2 alerts)', [0, 1]],
    ]);
  });

  it('email: one mail per event; healthchecks: job events only', () => {
    const mail = make({ type: 'email', host: 'smtp', from: 'a@b', to: ['c@d'] });
    expect(mail.deliveries(health)).toHaveLength(1);
    const hc = make({ type: 'healthchecks', url: 'https://hc-ping.com/abc' });
    expect(hc.deliveries(health)).toEqual([]);
    expect(hc.deliveries({ ...job, phase: 'start' }).map((d) => d.what)).toEqual([
      'ping https://hc-ping.com/… start (files1-share)',
    ]);
  });

  it('healthchecks: explicit start/success/fail URLs; an event without one is not pinged', () => {
    const hc = make({
      type: 'healthchecks',
      urls: { success: 'https://mon.example/ok/1', fail: 'https://alerts.example/bad/1' },
    });
    expect(hc.deliveries({ ...job, phase: 'start' })).toEqual([]);
    expect(hc.deliveries({ ...job, phase: 'success' }).map((d) => d.what)).toEqual([
      'ping https://mon.example/… success (files1-share)',
    ]);
    expect(hc.deliveries(job).map((d) => d.what)).toEqual([
      'ping https://alerts.example/… fail (files1-share)',
    ]);
    for (const bad of [
      { type: 'healthchecks' },
      { type: 'healthchecks', url: 'https://hc-ping.com/a', urls: { success: 'https://hc-ping.com/b' } },
    ]) {
      const parsed = NotifierSchema.safeParse(bad);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/either url .* or urls/);
    }
    expect(
      NotifierSchema.safeParse({ type: 'healthchecks', urls: { start: 'https://x.example/s' } }).success,
    ).toBe(false);
  });
});

describe('dispatch', () => {
  it('retries a failing delivery with backoff, on its own, and never throws', async () => {
    let failures = 2;
    const flaky = notifier('flaky', [
      async () => {
        if (failures-- > 0) throw new NotifyError('503', true);
      },
      async () => {},
    ]);
    const clock = fakeClock();
    const outcomes = await dispatch([flaky], job, { log: silentLogger(), clock, retryDelayMs: 1000 });
    expect(outcomes.map((o) => [o.what, o.ok, o.attempts])).toEqual([
      ['flaky#0', true, 3],
      ['flaky#1', true, 1],
    ]);
    expect(flaky.calls).toBe(4);
    expect(clock.slept).toEqual([1000, 2000]);
  });

  it('gives up after the attempts, and at once on a permanent error; other notifiers still deliver', async () => {
    const down = notifier('down', [() => Promise.reject(new Error('ECONNREFUSED'))]);
    const bad = notifier('bad', [() => Promise.reject(new NotifyError('webhook answered 404', false))]);
    const good = notifier('good', [async () => {}]);
    const outcomes = await dispatch([down, bad, good], job, {
      log: silentLogger(),
      clock: fakeClock(),
      attempts: 3,
    });
    expect(outcomes.map((o) => [o.notifier, o.ok, o.attempts, o.error])).toEqual([
      ['down', false, 3, 'ECONNREFUSED'],
      ['bad', false, 1, 'webhook answered 404'],
      ['good', true, 1, undefined],
    ]);
  });

  it('a notifier that throws while preparing is skipped', async () => {
    const broken: Notifier = {
      name: 'broken',
      type: 'email',
      deliveries: () => {
        throw new Error('bug');
      },
    };
    await expect(dispatch([broken], job, { log: silentLogger(), clock: fakeClock() })).resolves.toEqual([]);
  });
});
