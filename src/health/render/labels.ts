import { formatBytes } from '../../sizes.ts';
import type { ChainSummary } from '../backups.ts';
import { ago, span } from '../format.ts';
import type { BackupRow } from '../report.ts';
import type { RunProblem } from '../runs.ts';
import type { CheckResult, Status } from '../types.ts';

/** "disk /srv", "tcp 25", "reachable". */
export function checkLabel(r: Pick<CheckResult, 'check' | 'subject'>): string {
  return r.subject ? `${r.check} ${r.subject}` : r.check;
}

export const STATUS_LABEL: Record<Status, string> = {
  crit: 'CRIT',
  warn: 'WARN',
  unknown: 'UNKNOWN',
  ok: 'ok',
};

/** "disk ×3" style compaction of ok results: one entry per check name, in first-seen order. */
export function compactOk(results: readonly CheckResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.check, (counts.get(r.check) ?? 0) + 1);
  return [...counts].map(([c, n]) => (n > 1 ? `${c} ×${n}` : c)).join(', ');
}

/** "FAILED tidy (prune) 20m ago: <first line of the error>; last success 10h ago". */
export function runLine(r: RunProblem, now: Date): { badge: string; text: string } {
  const error = r.error?.split('\n')[0];
  const last = r.lastOkAt ? `last success ${ago(now.getTime() - Date.parse(r.lastOkAt))}` : 'never succeeded';
  return {
    badge: r.outcome.toUpperCase(),
    text: `${ago(now.getTime() - Date.parse(r.at))}${error ? `: ${error}` : ''}; ${last}`,
  };
}

/** "2026-11-22 08:15 UTC". */
export function utc(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** "Verified 2d ago · restore drill FAILED": the evidence that the backups can be restored. */
export function proofLine(b: BackupRow, now: Date): string {
  const one = (label: string, p: BackupRow['verified']) => {
    if (!p) return '';
    if (!p.lastOk) return `${label} FAILED`;
    return p.at ? `${label} ${span(now.getTime() - Date.parse(p.at))} ago` : label;
  };
  return [one('verified', b.verified), one('restore drill', b.drilled), copiesLine(b)]
    .filter(Boolean)
    .join(' · ');
}

/** "copy cold up to date", "copy nas 1d 2h behind", "copy cold unreachable". */
export function copiesLine(b: BackupRow): string {
  return (b.copies ?? [])
    .map((c) =>
      c.error
        ? `copy ${c.storage} unreachable`
        : c.lagMs
          ? `copy ${c.storage} ${span(c.lagMs)} behind`
          : `copy ${c.storage} up to date`,
    )
    .join(' · ');
}

/** "chain of 4: full 3d ago, then +1.20 MiB, +340 KiB, +2.00 KiB" (what each incremental added). */
export function chainLine(c: ChainSummary, now: Date): string {
  const full = `full ${ago(now.getTime() - Date.parse(c.fullAt))}`;
  const added = c.added.length ? `, then ${c.added.map((n) => `+${formatBytes(n)}`).join(', ')}` : '';
  return `chain of ${c.length}: ${full}${added}${c.broken ? ` — BROKEN: ${c.broken}` : ''}`;
}
