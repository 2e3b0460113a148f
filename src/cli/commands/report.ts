import type { Command } from 'commander';
import { openStateDb } from '../../catalog/db.ts';
import { BoError, UsageError } from '../../errors.ts';
import { renderHtml } from '../../health/render/html.ts';
import { renderMarkdown } from '../../health/render/markdown.ts';
import type { Report } from '../../health/report.ts';
import { assertReportWritable, writeReportFile } from '../../health/report-file.ts';
import { latestReport } from '../../health/report-store.ts';
import { performHealth } from '../../health/service.ts';
import type { CliContext } from '../context.ts';

const FORMATS = ['md', 'html', 'json'] as const;
type Format = (typeof FORMATS)[number];

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description(
      'Fleet report for on-call: summary, problems worst first, backups, changes since the last report',
    )
    .option('-f, --format <format>', 'md, html or json', 'md')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--last', "render the daemon's latest stored report instead of checking now")
    .addHelpText(
      'after',
      `
Runs every health check now (like \`bo health\`), reads the backup manifests, and compares with the
previous \`bo report\` (kept in the state database) for the "changes" section. With --out the
file is replaced atomically, and the report is kept for the next comparison only once written.

Examples:
  bo report                              Markdown on stdout
  bo report --format html --out /var/www/oncall.html`,
    )
    .action(async (opts: { format: string; out?: string; last?: boolean }) => {
      if (!FORMATS.includes(opts.format as Format)) {
        throw new UsageError(`unknown report format "${opts.format}"`, {
          hint: `use one of ${FORMATS.join(', ')}`,
        });
      }
      const format = opts.format as Format;
      const out = opts.out;
      if (out) assertReportWritable(out);
      // With --out the file is written first and the report stored only once that worked.
      const deliver = out ? (r: Report) => writeReportFile(out, render(r, format)) : undefined;
      let report: Report;
      if (opts.last) {
        report = stored(ctx);
        deliver?.(report);
      } else {
        report = (
          await performHealth(ctx.services(), {
            log: ctx.log,
            signal: ctx.signal,
            report: 'cli',
            ...(deliver ? { deliver } : {}),
          })
        ).report;
      }
      if (out) ctx.out.print(`${report.summary.line}; report written to ${out}`);
      else if (format === 'json') ctx.out.json(report);
      else ctx.out.print(render(report, format));
    });
}

function render(report: Report, format: Format): string {
  if (format === 'html') return renderHtml(report, { now: new Date() });
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return renderMarkdown(report);
}

function stored(ctx: CliContext): Report {
  const db = openStateDb(ctx.config().config.stateDir);
  try {
    const report = latestReport(db, 'daemon') ?? latestReport(db);
    if (!report)
      throw new BoError('no stored health report yet', {
        hint: 'run `bo report` without --last, or schedule a health job',
      });
    return report;
  } finally {
    db.close();
  }
}
