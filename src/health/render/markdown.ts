import { formatBytes } from '../../sizes.ts';
import { span } from '../format.ts';
import type { BackupRow, Report } from '../report.ts';
import { chainLine, checkLabel, compactOk, proofLine, runLine, STATUS_LABEL, utc } from './labels.ts';

/** The report as Markdown (for mail, tickets, chat): worst first. */
export function renderMarkdown(report: Report): string {
  const out: string[] = [`# bo fleet health: ${report.summary.line}`, ''];
  out.push(`Generated ${utc(report.generatedAt)} in ${span(report.durationMs)}.`, '');
  const all = report.hosts.flatMap((h) => h.results);
  const problems = all.filter((r) => r.status === 'crit' || r.status === 'warn');
  const unknown = all.filter((r) => r.status === 'unknown');
  out.push('## Needs attention', '');
  if (problems.length === 0) out.push('Nothing: no warning or critical check.');
  for (const r of problems)
    out.push(`- **${STATUS_LABEL[r.status]}** ${r.host} · ${checkLabel(r)}: ${esc(r.message)}`);
  out.push('');
  if (unknown.length > 0) {
    out.push(`## Could not check (${unknown.length})`, '');
    for (const r of unknown) out.push(`- ${r.host} · ${checkLabel(r)}: ${esc(r.message)}`);
    out.push('');
  }
  if (report.runs.length > 0) {
    out.push(`## Failed runs (${report.runs.length})`, '');
    for (const r of report.runs) {
      const line = runLine(r, new Date(report.generatedAt));
      out.push(`- **${line.badge}** ${r.job} (${r.kind}) ${esc(line.text)}`);
    }
    out.push('');
  }
  const since = report.changes.since ? ` (${utc(report.changes.since)})` : '';
  out.push(`## Changes since the previous report${since}`, '');
  if (!report.changes.since) out.push('No previous report to compare with.');
  else if (report.changes.items.length === 0) out.push('No changes.');
  for (const c of report.changes.items) {
    out.push(`- ${c.host} · ${checkLabel(c)}: ${c.from} → **${c.to}**: ${esc(c.message)}`);
  }
  out.push('', '## Backups', '');
  if (report.backups.length === 0) out.push('No backup jobs.');
  else {
    out.push(
      '| job | host | status | last good | source | stored | trend | chain | verified / drill |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const b of report.backups) out.push(backupRow(b, new Date(report.generatedAt)));
  }
  out.push('', '## Hosts', '');
  for (const h of report.hosts) {
    out.push(`### ${h.host} (${STATUS_LABEL[h.status]})`, '');
    const ok = h.results.filter((r) => r.status === 'ok');
    for (const r of h.results) {
      if (r.status !== 'ok') out.push(`- **${STATUS_LABEL[r.status]}** ${checkLabel(r)}: ${esc(r.message)}`);
    }
    if (ok.length > 0) out.push(`- ok: ${compactOk(ok)}`);
    out.push('');
  }
  return out.join('\n');
}

function backupRow(b: BackupRow, now: Date): string {
  const last = b.lastGood && b.ageMs !== undefined ? `${utc(b.lastGood)} (${span(b.ageMs)} ago)` : 'never';
  const source = b.sourceBytes !== undefined ? formatBytes(b.sourceBytes) : '';
  const stored = b.storedBytes !== undefined ? formatBytes(b.storedBytes) : '';
  const trend = b.trend !== undefined ? `${b.trend >= 0 ? '+' : ''}${Math.round(b.trend * 100)}%` : '';
  const chain = b.chain ? chainLine(b.chain, now) : '';
  return `| ${b.job} | ${b.host} | ${STATUS_LABEL[b.status]} | ${last} | ${source} | ${stored} | ${trend} | ${chain} | ${proofLine(b, now)} |`;
}

/** Keeps a message on its list line. */
function esc(s: string): string {
  return s.replace(/\n/g, ' ');
}
