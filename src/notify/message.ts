import { formatDuration } from '../config/duration.ts';
import type { Alert, JobEvent, NotifyEvent } from './notifier.ts';

/** "disk /srv", "reachable". */
export function what(t: { check: string; subject: string }): string {
  return t.subject ? `${t.check} ${t.subject}` : t.check;
}

/** One line per alert: "CRIT files1 disk /srv: /srv 96% used…". */
export function alertLine(t: Alert): string {
  const head =
    t.kind === 'reminder'
      ? `STILL CRIT for ${formatDuration(t.at - t.since)}`
      : t.to === 'ok'
        ? `RECOVERED (was ${t.from})`
        : t.to.toUpperCase();
  return `${head} ${t.host} ${what(t)}: ${t.result.message}`;
}

export function jobLine(e: JobEvent): string {
  const where = e.host ? ` on ${e.host}` : '';
  const took = e.durationMs !== undefined ? ` after ${formatDuration(e.durationMs)}` : '';
  if (e.phase === 'start') return `${e.kind} job ${e.job}${where} started`;
  if (e.phase === 'success')
    return `${e.kind} job ${e.job}${where} succeeded${took}${e.message ? `: ${e.message}` : ''}`;
  return `${e.kind} job ${e.job}${where} FAILED${took}${e.message ? `: ${e.message}` : ''}`;
}

/** Mail subject / chat headline for an event. */
export function title(e: NotifyEvent): string {
  if (e.type === 'job') return `[bo] ${jobLine(e).split(': ')[0]}`;
  if (e.alerts.length === 1) {
    const t = e.alerts[0]!;
    return `[bo] ${alertLine(t).split(': ')[0]}`;
  }
  const counts = new Map<string, number>();
  for (const t of e.alerts) {
    const k = t.kind === 'reminder' ? 'still crit' : t.to === 'ok' ? 'recovered' : t.to;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const hosts = [...new Set(e.alerts.map((t) => t.host))];
  const shown = hosts.slice(0, 3).join(', ') + (hosts.length > 3 ? ', …' : '');
  return `[bo] ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}: ${shown}`;
}

/** A run's alerts worst first (crit, warn, then recoveries), otherwise in the report's order. */
export function worstFirst(alerts: readonly Alert[]): Alert[] {
  const order = { crit: 0, warn: 1, ok: 2 } as const;
  return [...alerts].sort((a, b) => order[a.to] - order[b.to]);
}

/** Plain-text body: every alert line, worst first, then the fleet summary. */
export function body(e: NotifyEvent): string {
  if (e.type === 'job') return `${jobLine(e)}\n\nrun ${e.runId} at ${e.at}\n`;
  return `${worstFirst(e.alerts).map(alertLine).join('\n')}\n\nFleet: ${e.summary}\n`;
}
