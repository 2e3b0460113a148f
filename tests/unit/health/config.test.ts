import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/errors.ts';

const secrets = {
  env: { HOOK: 'https://hooks.example.com/services/T0/B0/secret', SMTP_PW: 'pw' },
  readFile: () => 'x',
};

function parse(doc: Record<string, unknown>) {
  const base = {
    hosts: { files1: { address: '10.0.0.5', privateKey: '/k', roles: ['storage'] } },
    storage: { s: { type: 'filesystem', path: '/r' } },
    jobs: { share: { host: 'files1', paths: ['/srv'], storage: 's' } },
  };
  return parseConfig(stringify({ ...base, ...doc }), '/etc/bo/bo.yaml', secrets);
}

function problems(doc: Record<string, unknown>): string[] {
  try {
    parse(doc);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('health and notify config', () => {
  it('accepts the documented shape, with defaults', () => {
    const cfg = parse({
      health: {
        checks: [
          { check: 'disk', roles: ['storage'], warn: 85, crit: 95 },
          { check: 'tcp', hosts: ['files1'], port: 25, banner: '^220' },
          { check: 'tls', hosts: ['files1'], port: 587 },
          { check: 'http', hosts: ['files1'], url: 'https://{address}/health' },
        ],
        notify: ['oncall', 'mail'],
        debounce: 3,
      },
      notify: {
        oncall: { type: 'webhook', url: { env: 'HOOK' }, format: 'slack' },
        mail: {
          type: 'email',
          host: 'smtp.example.com',
          user: 'bo',
          password: { env: 'SMTP_PW' },
          from: 'bo@example.com',
          to: ['oncall@example.com'],
        },
        hc: { type: 'healthchecks', url: 'https://hc-ping.com/0b6e4d1c-8d3c-4e5f-9a2b-1c3d5e7f9a0b' },
      },
      jobs: {
        share: { host: 'files1', paths: ['/srv'], storage: 's', notify: ['hc'] },
        fleet: { kind: 'health', schedule: '*/5 * * * *', roles: ['storage'] },
      },
    });
    expect(cfg.health).toMatchObject({
      debounce: 3,
      concurrency: 16,
      hostTimeout: 30_000,
      reminder: 4 * 3_600_000,
    });
    expect(cfg.health.checks[2]).toMatchObject({ check: 'tls', starttls: 'auto', warnDays: 21, critDays: 7 });
    expect(cfg.jobs.fleet).toMatchObject({ kind: 'health', roles: ['storage'], notify: [] });
    const mail = cfg.notify.mail;
    expect(mail?.type === 'email' && mail.password?.reveal()).toBe('pw');
    expect(JSON.stringify(cfg.notify)).not.toContain('secret');
  });

  it('an empty config has health defaults and no notifiers', () => {
    const cfg = parse({});
    expect(cfg.health.defaults).toBe(true);
    expect(cfg.notify).toEqual({});
  });

  it('reports unknown hosts, roles, jobs and notifiers with their paths, all at once', () => {
    expect(
      problems({
        health: {
          checks: [
            { check: 'disk', hosts: ['files2'], roles: ['storag'] },
            { check: 'backup-freshness', jobs: ['shar'] },
            { check: 'load', warn: 5, crit: 2 },
          ],
          notify: ['pager', 'hc'],
        },
        notify: { hc: { type: 'healthchecks', url: 'https://hc-ping.com/x' } },
        jobs: {
          share: { host: 'files1', paths: ['/srv'], storage: 's', notify: ['hcc'] },
          fleet: { kind: 'health', hosts: ['mail9'] },
        },
      }),
    ).toEqual([
      'health.checks.0.hosts.0: unknown host "files2" (did you mean "files1"?)',
      'health.checks.0.roles.0: no host has role "storag" (did you mean "storage"?)',
      'health.checks.1.jobs.0: unknown backup job "shar" (did you mean "share"?)',
      'health.checks.2: warn must not exceed crit',
      'health.notify.0: unknown notifier "pager" (known: hc)',
      'health.notify.1: "hc" is a healthchecks pinger: list it in a job\'s notify instead',
      'jobs.share.notify.0: unknown notifier "hcc" (did you mean "hc"?)',
      'jobs.fleet.hosts.0: unknown host "mail9" (known: files1)',
    ]);
  });

  it('rejects unknown checks and options, bad URLs, plain-text passwords', () => {
    const p = problems({
      health: {
        checks: [
          { check: 'dsk' },
          { check: 'tcp', port: 25, bannr: '^220' },
          { check: 'http', url: 'not a url' },
        ],
      },
      notify: { mail: { type: 'email', host: 'h', from: 'a@b', to: ['c@d'], password: 'plain' } },
    });
    expect(p.some((x) => x.startsWith('health.checks.0.check'))).toBe(true);
    expect(p).toContain('health.checks.1.bannr: unknown key (did you mean "banner"?)');
    expect(p).toContain('health.checks.2.url: not a URL');
    expect(p.some((x) => x.startsWith('notify.mail.password'))).toBe(true);
  });
});
