import { formatDuration } from '../config/duration.ts';
import type { Host as HostConfig } from '../config/schema.ts';

/** How a host is named in messages: `files1 (10.0.0.5:22)`. */
export function where(name: string, cfg: HostConfig): string {
  return `${name} (${cfg.address}:${cfg.port})`;
}

/** A timeout as messages show it: `4.5s`, `2m`. */
export function seconds(ms: number): string {
  return ms < 60_000 ? `${Number((ms / 1000).toFixed(1))}s` : formatDuration(ms);
}
