import { describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { UsageError } from '../../../src/errors.ts';
import { planHealth } from '../../../src/health/plan.ts';

function config(health: unknown, extra: Record<string, unknown> = {}) {
  const host = (roles: string[]) => ({ address: '10.0.0.1', privateKey: '/k', roles });
  return parseResolved(Config, {
    hosts: { files1: host(['storage']), files2: host(['storage']), mail1: host(['transmission']) },
    storage: { s: { type: 'filesystem', path: '/r' } },
    jobs: {
      'files1-share': { host: 'files1', paths: ['/srv'], storage: 's', schedule: '0 2 * * *' },
      'mail1-etc': { host: 'mail1', paths: ['/etc'], storage: 's' },
    },
    health,
    ...extra,
  });
}

const checksOf = (plan: ReturnType<typeof planHealth>, host: string) =>
  plan.hosts.find((h) => h.host === host)!.specs.map((s) => s.check);

describe('health plan', () => {
  it('defaults: the every-host set on every host, freshness on every backup job', () => {
    const plan = planHealth(config({}));
    expect(plan.hosts.map((h) => h.host)).toEqual(['files1', 'files2', 'mail1']);
    expect(checksOf(plan, 'files1')).toEqual([
      'disk',
      'inodes',
      'load',
      'memory',
      'systemd',
      'ntp',
      'uptime',
    ]);
    expect(plan.backups.map((b) => b.job)).toEqual(['files1-share', 'mail1-etc']);
  });

  it('role entries add checks; hosts: beats roles: beats neither beats the default', () => {
    const plan = planHealth(
      config({
        checks: [
          { check: 'disk', warn: 70, crit: 85 },
          { check: 'disk', roles: ['storage'], warn: 85, crit: 95 },
          { check: 'disk', hosts: ['files2'], warn: 90, crit: 97 },
          { check: 'raid', roles: ['storage'] },
          { check: 'tcp', roles: ['transmission'], port: 25, banner: '^220' },
          { check: 'tls', roles: ['transmission'], port: 465 },
          { check: 'tls', hosts: ['mail1'], port: 993 },
        ],
      }),
    );
    const disk = (h: string) => plan.hosts.find((x) => x.host === h)!.specs.find((s) => s.check === 'disk');
    expect(disk('files1')).toMatchObject({ warn: 85, crit: 95 });
    expect(disk('files2')).toMatchObject({ warn: 90, crit: 97 });
    expect(disk('mail1')).toMatchObject({ warn: 70, crit: 85 });
    expect(checksOf(plan, 'files1')).toContain('raid');
    expect(checksOf(plan, 'mail1')).not.toContain('raid');
    // Network checks all apply.
    expect(
      plan.hosts
        .find((h) => h.host === 'mail1')!
        .specs.filter((s) => s.check === 'tls')
        .map((s) => 'port' in s && s.port),
    ).toEqual([465, 993]);
  });

  it('later entries win between equals; defaults can be switched off', () => {
    const plan = planHealth(
      config({
        defaults: false,
        checks: [
          { check: 'load', warn: 1 },
          { check: 'load', warn: 3 },
        ],
      }),
    );
    expect(plan.hosts[0]!.specs).toEqual([expect.objectContaining({ check: 'load', warn: 3 })]);
    // The backup jobs are still listed (the report shows them), but no freshness check judges them.
    expect(plan.backups).toEqual([
      { job: 'files1-share', spec: undefined },
      { job: 'mail1-etc', spec: undefined },
    ]);
  });

  it('selects hosts by name or role; unknown names are a usage error; "local" when asked', () => {
    const cfg = config({ checks: [{ check: 'disk', hosts: ['local'] }] });
    expect(planHealth(cfg).hosts.map((h) => h.host)).toEqual(['files1', 'files2', 'mail1', 'local']);
    expect(planHealth(cfg, { roles: ['storage'] }).hosts.map((h) => h.host)).toEqual(['files1', 'files2']);
    const one = planHealth(cfg, { hosts: ['mail1'] });
    expect(one.hosts.map((h) => h.host)).toEqual(['mail1']);
    expect(one.backups.map((b) => b.job)).toEqual(['mail1-etc']);
    expect(() => planHealth(cfg, { hosts: ['nope'] })).toThrow(/unknown host nope/);
    expect(planHealth(cfg, { hosts: ['local'] }).hosts[0]).toMatchObject({
      host: 'local',
      address: '127.0.0.1',
    });
  });

  it('an unknown role or a selection that matches no host is a usage error, never "all 0 checks ok"', () => {
    const cfg = config({});
    const err = (() => {
      try {
        planHealth(cfg, { roles: ['nosuch'] });
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect(err?.message).toBe('unknown role nosuch');
    expect(err?.hint).toBe('roles in the config: storage, transmission');
    expect(() => planHealth(cfg, { roles: ['storage', 'nosuch', 'typo'] })).toThrow(
      /^unknown roles nosuch, typo$/,
    );
    expect(() => planHealth(cfg, { hosts: ['mail1'], roles: ['storage'] })).toThrow(
      /no host to check: the selection matches none/,
    );
  });

  it('with no hosts configured, the local machine is checked', () => {
    const plan = planHealth(parseResolved(Config, {}));
    expect(plan.hosts.map((h) => [h.host, h.address])).toEqual([['local', '127.0.0.1']]);
  });

  it('backup-freshness entries by job name beat host and role entries', () => {
    const plan = planHealth(
      config({
        checks: [
          { check: 'backup-freshness', roles: ['storage'], maxAge: '2d' },
          { check: 'backup-freshness', jobs: ['files1-share'], maxAge: '12h' },
        ],
      }),
    );
    expect(plan.backups.find((b) => b.job === 'files1-share')!.spec!.maxAge).toBe(12 * 3_600_000);
    expect(plan.backups.find((b) => b.job === 'mail1-etc')!.spec!.maxAge).toBeUndefined();
  });
});
