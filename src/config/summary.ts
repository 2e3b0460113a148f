import type { LoadedConfig } from './load.ts';

export interface ConfigSummary {
  file: string;
  embedded: boolean;
  storage: Array<{ name: string; type: string }>;
  hosts: Array<{ name: string; address: string }>;
  jobs: Array<{ name: string; kind: string; host?: string; schedule?: string }>;
  text: string;
}

export function summarizeConfig({ file, embedded, config }: LoadedConfig): ConfigSummary {
  const storage = Object.entries(config.storage).map(([name, s]) => ({ name, type: s.type }));
  const hosts = Object.entries(config.hosts).map(([name, h]) => ({
    name,
    address: `${h.user}@${h.address}:${h.port}`,
  }));
  const jobs = Object.entries(config.jobs).map(([name, j]) => ({
    name,
    kind: j.kind,
    ...('host' in j ? { host: j.host } : {}),
    ...(j.schedule ? { schedule: j.schedule } : {}),
  }));
  const lines = [
    `config ${file}${embedded ? ' (shipped example)' : ''} is valid`,
    `  storage: ${storage.map((s) => `${s.name} (${s.type})`).join(', ') || 'none'}`,
    `  hosts:   ${hosts.map((h) => `${h.name} (${h.address})`).join(', ') || 'none'}`,
    `  jobs:    ${jobs.map((j) => `${j.name} (${j.kind}${j.host ? ` on ${j.host}` : ''})`).join(', ') || 'none'}`,
  ];
  return { file, embedded, storage, hosts, jobs, text: lines.join('\n') };
}
