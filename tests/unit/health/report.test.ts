import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../../src/health/render/html.ts';
import { renderMarkdown } from '../../../src/health/render/markdown.ts';
import { renderText } from '../../../src/health/render/text.ts';
import { buildReport, summaryLine } from '../../../src/health/report.ts';
import { sampleRun } from '../../fixtures/health/sample-run.ts';

describe('report', () => {
  it('summary line', () => {
    expect(summaryLine({ ok: 10, warn: 3, crit: 2, unknown: 0 }, 14)).toBe('2 crit, 3 warn on 14 hosts');
    expect(summaryLine({ ok: 12, warn: 0, crit: 0, unknown: 0 }, 1)).toBe('all 12 checks ok on 1 host');
  });

  it('builds sections, backups with size trend, and changes since the previous report', () => {
    const previous = new Map([
      ['files1\0disk\0/srv', 'warn' as const],
      ['mail1\0mailqueue\0', 'warn' as const],
      ['files1\0load\0', 'ok' as const],
    ]);
    const report = buildReport(sampleRun(), { at: '2025-11-21T08:00:00.000Z', statuses: previous });
    expect(report.summary).toMatchObject({
      crit: 2,
      warn: 1,
      unknown: 1,
      ok: 5,
      hosts: 3,
      line: '2 crit, 1 warn, 1 unknown on 3 hosts',
    });
    expect(report.hosts.map((h) => [h.host, h.status])).toEqual([
      ['mail2', 'crit'],
      ['files1', 'crit'],
      ['mail1', 'warn'],
    ]);
    expect(report.backups[0]).toMatchObject({
      job: 'files1-share',
      status: 'ok',
      sourceBytes: 1210,
      storedBytes: 705,
      ageMs: 6 * 3_600_000 + 2000,
    });
    expect(report.backups[0]!.trend).toBeCloseTo(0.1);
    // warn→crit on /srv; mail2 reachable is new and crit; new ok checks and unchanged ones are not news.
    expect(report.changes.items.map((c) => `${c.host} ${c.check} ${c.from}→${c.to}`)).toEqual([
      'mail2 reachable new→crit',
      'files1 disk warn→crit',
      'files1 smart new→unknown',
    ]);
  });

  it('text: problems first, then one compact ok line per host', () => {
    const text = renderText(buildReport(sampleRun()));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^CRIT +mail2 +reachable +cannot reach mail2/);
    expect(lines[1]).toMatch(/^CRIT +files1 +disk \/srv +\/srv 96% used/);
    expect(lines[2]).toMatch(/^WARN +mail1 +mailqueue/);
    expect(lines[3]).toMatch(/^UNKNOWN +files1 +smart/);
    expect(text).toMatch(/^ok +files1 +load, disk ×2, backup-freshness$/m);
    expect(lines.at(-1)).toBe('2 crit, 1 warn, 1 unknown on 3 hosts (checked in 2s)');
  });

  it('markdown and html escape what hosts print', () => {
    const report = buildReport(sampleRun());
    const md = renderMarkdown(report);
    expect(md).toMatch(/^# bo fleet health: 2 crit, 1 warn, 1 unknown on 3 hosts/);
    expect(md).toContain('| files1-share | files1 | ok |');
    const html = renderHtml(report);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('&#60;now&#62;');
    expect(html).not.toContain('<now>');
    expect(html).toContain('<code>du -xh /srv | sort -h | tail</code>');
    // Worst first: the crit card comes before the warn card.
    expect(html.indexOf('mail2')).toBeLessThan(html.indexOf('1234 messages'));
  });
});
