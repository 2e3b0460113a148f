/** Human formatting for check messages and reports (bytes: formatBytes in src/sizes.ts). Pure. */

/** "1 host", "3 hosts". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function pct(n: number): string {
  return `${n >= 99.5 && n < 100 ? n.toFixed(1) : Math.round(n)}%`;
}

/** "45s", "12m", "3h", "2.5d": one unit, rounded, for messages. */
export function span(ms: number): string {
  const s = Math.abs(ms) / 1000;
  if (s < 1) return `${Math.round(Math.abs(ms))}ms`;
  if (s < 10) return `${Number(s.toFixed(1))}s`;
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)}h`;
  const d = s / 86400;
  return `${d < 10 ? Number(d.toFixed(1)) : Math.round(d)}d`;
}

/** "~3 days", "~5 hours": for forecasts, where precision would be false. */
export function approx(ms: number): string {
  const h = ms / 3_600_000;
  if (h < 1) return `~${Math.max(1, Math.round(ms / 60_000))} min`;
  if (h < 48) return `~${Math.round(h)} hour${Math.round(h) === 1 ? '' : 's'}`;
  const d = Math.round(h / 24);
  return `~${d} days`;
}

/** "3m ago" / "2h ago" / "5d ago". */
export function ago(ms: number): string {
  return `${span(ms)} ago`;
}
