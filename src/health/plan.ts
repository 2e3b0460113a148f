import { type CheckName, type Config, HealthCheckSpec, type Job } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import { DEFAULT_HOST_CHECKS, healthChecks, isSingleton } from './registry.ts';

export const LOCAL = 'local';

export interface HostPlan {
  host: string;
  /** Where tcp/tls/http checks connect: the configured address, 127.0.0.1 for "local". */
  address: string;
  roles: string[];
  /** Probe and network checks for this host, in config order. */
  specs: HealthCheckSpec[];
}

export interface HealthPlan {
  hosts: HostPlan[];
  /**
   * Every enabled backup job in scope (the report lists them all), with the backup-freshness
   * entry that applies to it; without one (\`health.defaults: false\` and no entry) it is not judged.
   */
  backups: Array<{ job: string; spec?: SpecFor<'backup-freshness'> | undefined }>;
  /** Enabled jobs of every kind in scope (with a host or role selection: those on the selected hosts), whose failed runs the report shows. */
  runs: string[];
  /** snapshot-freshness per snapshot job (and backup job with snapshot:) in scope. */
  snapshots: Array<{ job: string; spec: SpecFor<'snapshot-freshness'> }>;
}

type SpecFor<N extends CheckName> = Extract<HealthCheckSpec, { check: N }>;
type FleetName = 'backup-freshness' | 'snapshot-freshness';
const FLEET: readonly CheckName[] = ['backup-freshness', 'snapshot-freshness'];

export interface HealthSelection {
  /** Only these hosts ("local" allowed); unknown names are a usage error. */
  hosts?: readonly string[] | undefined;
  /** Only hosts with one of these roles. */
  roles?: readonly string[] | undefined;
}

type Candidate = { spec: HealthCheckSpec; rank: number; order: number };

/**
 * Which checks run on which host, from `health.checks` and the defaults. Pure. For a check that
 * measures the whole host, the most specific entry wins (hosts: > roles: > neither > default;
 * then the later entry); tcp, tls and http entries all apply.
 */
export function planHealth(config: Config, select: HealthSelection = {}): HealthPlan {
  const hosts = scope(config, select);
  const entries = config.health.checks;
  const defaults = config.health.defaults
    ? DEFAULT_HOST_CHECKS.map((check) => HealthCheckSpec.parse({ check }))
    : [];
  const plans = hosts.map((host): HostPlan => {
    const roles = config.hosts[host]?.roles ?? [];
    const candidates: Candidate[] = defaults.map((spec, order) => ({ spec, rank: 0, order }));
    entries.forEach((spec, order) => {
      const rank = matchRank(spec, host, roles);
      if (rank > 0 && !FLEET.includes(spec.check)) candidates.push({ spec, rank, order });
    });
    return { host, address: config.hosts[host]?.address ?? '127.0.0.1', roles, specs: pick(candidates) };
  });
  const inScope = new Set(hosts);
  const filtered = Boolean(select.hosts?.length || select.roles?.length);
  return {
    hosts: plans,
    runs: Object.entries(config.jobs)
      .filter(([, j]) => j.enabled && (!filtered || ('host' in j && inScope.has(j.host))))
      .map(([name]) => name),
    backups: planFleet(config, inScope, select, 'backup-freshness', (j) => j.kind === 'backup'),
    snapshots: planFleet(
      config,
      inScope,
      select,
      'snapshot-freshness',
      (j) => j.kind === 'snapshot' || (j.kind === 'backup' && j.snapshot !== undefined),
    ).filter((s): s is { job: string; spec: SpecFor<'snapshot-freshness'> } => s.spec !== undefined),
  };
}

function scope(config: Config, select: HealthSelection): string[] {
  const configured = Object.keys(config.hosts);
  // With no hosts configured, bo watches the machine it runs on (the shipped example's setup).
  const mentionsLocal = configured.length === 0 || config.health.checks.some((c) => c.hosts?.includes(LOCAL));
  const known = mentionsLocal ? [...configured, LOCAL] : configured;
  let hosts = known;
  if (select.hosts && select.hosts.length > 0) {
    for (const h of select.hosts) {
      if (h !== LOCAL && !configured.includes(h)) {
        throw new UsageError(`unknown host ${h}`, {
          hint: `configured hosts: ${configured.join(', ') || 'none'}`,
        });
      }
    }
    hosts = [...new Set(select.hosts)];
  }
  if (select.roles && select.roles.length > 0) {
    // A typo in --role must not read as "all 0 checks ok" (exit 0) to Nagios.
    const roles = new Set(Object.values(config.hosts).flatMap((h) => h.roles));
    const unknown = select.roles.filter((r) => !roles.has(r));
    if (unknown.length > 0) {
      throw new UsageError(`unknown role${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, {
        hint: `roles in the config: ${[...roles].sort().join(', ') || 'none'}`,
      });
    }
    hosts = hosts.filter((h) => config.hosts[h]?.roles.some((r) => select.roles!.includes(r)));
  }
  if (hosts.length === 0) {
    throw new UsageError('no host to check: the selection matches none', {
      hint: `hosts ${select.hosts?.join(', ')} have none of the roles ${select.roles?.join(', ')}`,
    });
  }
  return hosts;
}

/** 3 when the entry names the host, 2 when it names one of its roles, 1 when it names neither, 0 no match. */
function matchRank(
  spec: { hosts?: string[] | undefined; roles?: string[] | undefined },
  host: string,
  roles: string[],
): number {
  if (!spec.hosts && !spec.roles) return 1;
  if (spec.hosts?.includes(host)) return 3;
  if (spec.roles?.some((r) => roles.includes(r))) return 2;
  return 0;
}

function pick(candidates: Candidate[]): HealthCheckSpec[] {
  const best = new Map<CheckName, Candidate>();
  const all: Candidate[] = [];
  for (const c of candidates) {
    if (!isSingleton(c.spec.check)) {
      all.push(c);
      continue;
    }
    const cur = best.get(c.spec.check);
    if (!cur || c.rank > cur.rank || (c.rank === cur.rank && c.order >= cur.order)) best.set(c.spec.check, c);
  }
  const chosen = [...best.values(), ...all];
  const names = Object.keys(healthChecks);
  return chosen
    .sort((a, b) => names.indexOf(a.spec.check) - names.indexOf(b.spec.check) || a.order - b.order)
    .map((c) => c.spec);
}

/** Each job `takes` in scope, with the fleet check entry that applies to it, if any (jobs: > hosts: > roles: > neither > default). */
function planFleet<N extends FleetName>(
  config: Config,
  hosts: Set<string>,
  select: HealthSelection,
  name: N,
  takes: (job: Job) => boolean,
): Array<{ job: string; spec?: SpecFor<N> | undefined }> {
  const filtered = Boolean(select.hosts?.length || select.roles?.length);
  const fallback = config.health.defaults ? HealthCheckSpec.parse({ check: name }) : undefined;
  const out: Array<{ job: string; spec?: SpecFor<N> | undefined }> = [];
  for (const [job, j] of Object.entries(config.jobs)) {
    if (!('host' in j) || !takes(j) || !j.enabled) continue;
    if (filtered && !hosts.has(j.host)) continue;
    const roles = config.hosts[j.host]?.roles ?? [];
    let best: { spec: HealthCheckSpec; rank: number } | undefined = fallback && { spec: fallback, rank: 0 };
    for (const spec of config.health.checks) {
      if (spec.check !== name) continue;
      const { jobs } = spec as SpecFor<FleetName>;
      if (jobs && !jobs.includes(job)) continue;
      const rank = jobs ? 4 : matchRank(spec, j.host, roles);
      if (rank > 0 && (!best || rank >= best.rank)) best = { spec, rank };
    }
    out.push({ job, spec: best && best.spec.check === name ? (best.spec as SpecFor<N>) : undefined });
  }
  return out;
}
