import { span } from '../format.ts';
import type { Report } from '../report.ts';
import { checkLabel, compactOk, STATUS_LABEL } from './labels.ts';
import { perfdata } from './perfdata.ts';

/**
 * `bo health` output: problems first (crit, warn, unknown), one line each, then one compact
 * line per host whose checks are all ok, then the summary, then the performance data of the
 * numeric results after a `|` (Nagios plugin style). `verbose` lists ok results too.
 */
export function renderText(report: Report, opts: { verbose?: boolean } = {}): string {
  const problems = report.hosts.flatMap((h) => h.results.filter((r) => r.status !== 'ok'));
  problems.sort((a, b) => order(a.status) - order(b.status));
  const rows = problems.map((r) => [STATUS_LABEL[r.status], r.host, checkLabel(r), r.message]);
  if (opts.verbose) {
    for (const h of report.hosts) {
      for (const r of h.results) if (r.status === 'ok') rows.push(['ok', r.host, checkLabel(r), r.message]);
    }
  } else {
    for (const h of report.hosts) {
      const ok = h.results.filter((r) => r.status === 'ok');
      if (ok.length > 0) rows.push(['ok', h.host, compactOk(ok), '']);
    }
  }
  const lines = columns(rows);
  if (report.hosts.length === 0)
    lines.push('no hosts to check (configure hosts, or health checks for "local")');
  lines.push('', `${report.summary.line} (checked in ${span(report.durationMs)})`);
  // Nagios/Icinga read everything after the first `|` of the long output as performance data.
  const perf = perfdata(report.hosts.flatMap((h) => h.results));
  if (perf.length > 0) lines.push(`| ${perf[0]}`, ...perf.slice(1));
  return lines.join('\n');
}

function order(s: string): number {
  return ['crit', 'warn', 'unknown', 'ok'].indexOf(s);
}

/** Aligns the first three columns; the message runs on. Host and check columns are capped. */
function columns(rows: string[][]): string[] {
  const w = [0, 0, 0];
  for (const r of rows) for (let i = 0; i < 3; i++) w[i] = Math.min(28, Math.max(w[i]!, r[i]!.length));
  return rows.map((r) =>
    [r[0]!.padEnd(w[0]!), r[1]!.padEnd(w[1]!), r[3] ? r[2]!.padEnd(w[2]!) : r[2]!, r[3]!]
      .join('  ')
      .trimEnd(),
  );
}
