/** Human formatting shared by commands. */
import { formatBytes } from '../sizes.ts';

/** The one byte formatter (src/sizes.ts), for the commands that import it from here. */
export { formatBytes };

export function formatRate(bytes: number, ms: number): string {
  return ms > 0 ? `${formatBytes((bytes * 1000) / ms)}/s` : '-';
}

/** "3m ago", "2h ago", "5d ago". */
export function formatAge(from: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 5400) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** Left-aligned text table; the last column is not padded. */
export function table(rows: string[][], header?: string[]): string {
  const out: string[] = [];
  printTable(
    (text) => out.push(text),
    () => rows,
    header,
  );
  return out.join('\n');
}

/**
 * table() for many rows, printed a thousand lines at a time, never as one string of them all.
 * `rows` is called twice: for the column widths, then for the lines; once when the caller
 * knows the widths of its cells (`known`, the header's are added).
 */
export function printTable(
  print: (text: string) => void,
  rows: () => Iterable<string[]>,
  header?: string[],
  known?: number[],
): void {
  const widths: number[] = known ? [...known] : [];
  const measure = (r: string[]) => {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, width(c));
  };
  if (header) measure(header);
  if (!known) for (const r of rows()) measure(r);
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c)))).join('  ');
  let batch = header ? [line(header)] : [];
  for (const r of rows()) {
    batch.push(line(r));
    if (batch.length === 1000) {
      print(batch.join('\n'));
      batch = [];
    }
  }
  if (batch.length) print(batch.join('\n'));
}

/** Characters as a terminal counts them (code points, not UTF-16 units). */
export function width(s: string): number {
  return /[\uD800-\uDFFF]/.test(s) ? [...s].length : s.length;
}
