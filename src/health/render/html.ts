import { formatSizes } from '../../sizes.ts';
import { plural, span } from '../format.ts';
import type { BackupRow, Change, HostSection, Report } from '../report.ts';
import type { RunProblem } from '../runs.ts';
import { type CheckResult, countStatuses, overallStatus, type Status } from '../types.ts';
import { type ClusterPanel, clusterSection } from './cluster-html.ts';
import { STYLE } from './html-style.ts';
import { chainLine, checkLabel, proofLine, runLine, STATUS_LABEL, utc } from './labels.ts';

export interface HtmlOptions {
  /** For "checked 3m ago"; default: the report's own time. */
  now?: Date;
  /** Reload the page this often (the daemon's live page). */
  refreshSeconds?: number;
  /** A cluster's nodes and runs (coordination: postgres). */
  cluster?: ClusterPanel | undefined;
}

/** The report as one self-contained HTML page: no scripts, no external resources. */
export function renderHtml(report: Report, opts: HtmlOptions = {}): string {
  const now = opts.now ?? new Date(report.generatedAt);
  const overall = overallStatus(report.summary);
  const all = report.hosts.flatMap((h) => h.results);
  const problems = all.filter((r) => r.status === 'crit' || r.status === 'warn');
  const unknown = all.filter((r) => r.status === 'unknown');
  const age = now.getTime() - Date.parse(report.generatedAt);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${opts.refreshSeconds ? `<meta http-equiv="refresh" content="${opts.refreshSeconds}">\n` : ''}<title>${esc(report.summary.line)} · bo</title>
<style>${STYLE}</style></head>
<body><header class="s-${overall}"><div class="wrap">
<h1>${esc(report.summary.line)}</h1>
<div class="meta">Checked ${esc(utc(report.generatedAt))}${age >= 60_000 ? ` (${span(age)} ago)` : ''} in ${span(report.durationMs)}</div>
</div></header>
<main class="wrap">
<h2>Needs attention</h2>
${problems.length > 0 ? `<ul>${problems.map(problemCard).join('')}</ul>` : '<p>Nothing: no warning or critical check.</p>'}
${unknown.length > 0 ? `<details><summary>${badge('unknown')} Could not check (${unknown.length})</summary><ul>${unknown.map(unknownItem).join('')}</ul></details>` : ''}
${opts.cluster ? clusterSection(opts.cluster, now) : ''}
${failedRuns(report, now)}
${changes(report)}
${backups(report.backups, now)}
<h2>Hosts</h2>
${report.hosts.map(hostSection).join('\n') || '<p class="muted">No hosts checked.</p>'}
<footer class="muted">bo health report · worst first · ${plural(report.summary.hosts, 'host')}</footer>
</main></body></html>
`;
}

function problemCard(r: CheckResult): string {
  return `<li class="card s-${r.status}"><div class="head">${badge(r.status)}<span class="host">${esc(r.host)}</span><span>${esc(checkLabel(r))}</span></div><p class="msg">${rich(r.message)}</p></li>`;
}

function unknownItem(r: CheckResult): string {
  return `<li><span class="host">${esc(r.host)}</span> <b>${esc(checkLabel(r))}</b> <span class="muted">${rich(r.message)}</span></li>`;
}

function failedRuns(report: Report, now: Date): string {
  if (report.runs.length === 0) return '';
  const card = (r: RunProblem) => {
    const line = runLine(r, now);
    const status: Status = r.outcome === 'failed' ? 'crit' : 'warn';
    return `<li class="card s-${status}"><div class="head"><span class="badge s-${status}">${esc(line.badge)}</span><span class="host">${esc(r.job)}</span><span class="muted">${esc(r.kind)}</span></div><p class="msg">${rich(line.text)}</p></li>`;
  };
  return `<h2>Failed runs</h2><ul>${report.runs.map(card).join('')}</ul>`;
}

function changes(report: Report): string {
  const head = `<h2>Changes${report.changes.since ? ` since ${esc(utc(report.changes.since))}` : ''}</h2>`;
  if (!report.changes.since) return `${head}<p class="muted">No earlier report to compare with.</p>`;
  if (report.changes.items.length === 0) return `${head}<p class="muted">No changes.</p>`;
  return `${head}<ul class="rows">${report.changes.items.map(changeItem).join('')}</ul>`;
}

function changeItem(c: Change): string {
  return `<li class="row"><span class="host">${esc(c.host)}</span> ${esc(checkLabel(c))} <span class="arrow">${esc(c.from)} → ${badge(c.to)}</span></li>`;
}

function backups(rows: BackupRow[], now: Date): string {
  if (rows.length === 0) return '';
  const order: Status[] = ['crit', 'warn', 'unknown', 'ok'];
  const sorted = [...rows].sort(
    (a, b) => order.indexOf(a.status) - order.indexOf(b.status) || a.job.localeCompare(b.job),
  );
  const card = (b: BackupRow) => {
    const last = b.lastGood
      ? `Last good ${esc(utc(b.lastGood))} (${span(now.getTime() - Date.parse(b.lastGood))} ago)`
      : 'No backup yet';
    const size =
      b.sourceBytes !== undefined
        ? `${formatSizes(b)}${b.trend !== undefined ? ` (${b.trend >= 0 ? '+' : ''}${Math.round(b.trend * 100)}% vs previous)` : ''} · ${b.count} kept`
        : '';
    const msg = b.status !== 'ok' ? `<p class="msg">${rich(b.message)}</p>` : '';
    const proof = proofLine(b, now);
    const chain = b.chain ? esc(chainLine(b.chain, now)) : '';
    return `<li class="card s-${b.status}"><div class="head">${badge(b.status)}<span class="host">${esc(b.job)}</span><span class="muted">${esc(b.host)} → ${esc(b.storage)}</span></div><p class="msg">${last}${size ? `<br>${size}` : ''}${chain ? `<br>${chain}` : ''}${proof ? `<br>${proof}` : ''}</p>${msg}</li>`;
  };
  return `<h2>Backups</h2><ul>${sorted.map(card).join('')}</ul>`;
}

function hostSection(h: HostSection): string {
  const c = countStatuses(h.results);
  const counts = (['crit', 'warn', 'unknown', 'ok'] as const)
    .filter((s) => c[s] > 0)
    .map((s) => `${c[s]} ${s}`)
    .join(' · ');
  const items = h.results
    .map(
      (r) =>
        `<li>${r.status === 'ok' ? '' : `${badge(r.status)} `}<b>${esc(checkLabel(r))}</b> <span class="${r.status === 'ok' ? 'muted' : ''}">${rich(r.message)}</span></li>`,
    )
    .join('');
  // Closed: the problems are listed above already; a tap shows every measurement of the host.
  return `<details><summary>${badge(h.status)} <span class="host">${esc(h.host)}</span> <span class="muted">${counts}</span></summary><ul>${items}</ul></details>`;
}

function badge(s: Status): string {
  return `<span class="badge s-${s}">${STATUS_LABEL[s].toUpperCase()}</span>`;
}

/** Escapes text, then shows `command` spans as code (messages name commands to run). */
function rich(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
