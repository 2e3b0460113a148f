import { describe, expect, it } from 'vitest';
import { perfdata } from '../../../src/health/render/perfdata.ts';
import { renderText } from '../../../src/health/render/text.ts';
import { buildReport } from '../../../src/health/report.ts';
import type { CheckResult } from '../../../src/health/types.ts';
import { sampleRun } from '../../fixtures/health/sample-run.ts';

const base = { host: 'files1', status: 'ok', message: '' } as const;

describe('perfdata (Monitoring Plugins guidelines)', () => {
  it("'label'=value[UOM];warn;crit;min;max, only for numeric results", () => {
    const results: CheckResult[] = [
      { ...base, check: 'disk', subject: '/srv', value: 45.25, unit: '%', threshold: { warn: 80, crit: 90 } },
      {
        ...base,
        check: 'load',
        subject: '',
        value: 0.12,
        unit: 'load/core',
        threshold: { warn: 2, crit: 4 },
      },
      {
        ...base,
        check: 'tls',
        subject: "it's=443",
        value: 29.5,
        unit: 'days',
        threshold: { warn: 14, crit: 7, below: true },
      },
      { ...base, check: 'tcp', subject: '25', value: 12.3456, unit: 'ms' },
      { ...base, check: 'smart', subject: '', status: 'unknown' },
    ];
    expect(perfdata(results)).toEqual([
      "'files1 disk /srv'=45.25%;80;90;0;100",
      "'files1 load'=0.12;2;4",
      // Days become seconds; lower is worse, so the ranges alert below their start; ' doubled, = replaced.
      "'files1 tls it''s_443'=2548800s;1209600:;604800:",
      "'files1 tcp 25'=12.346ms",
    ]);
  });

  it('bo health text: perfdata after the summary, behind one `|`', () => {
    const run = sampleRun();
    run.hosts[1]!.results.push({
      ...base,
      check: 'inodes',
      subject: '/',
      value: 3,
      unit: '%',
      threshold: { warn: 80, crit: 90 },
    });
    run.hosts[2]!.results.push({
      ...base,
      host: 'mail1',
      check: 'mailqueue',
      subject: 'x',
      value: 1234,
      unit: 'messages',
    });
    const lines = renderText(buildReport(run)).split('\n');
    expect(lines.slice(-3)).toEqual([
      '2 crit, 1 warn, 1 unknown on 3 hosts (checked in 2s)',
      "| 'files1 inodes /'=3%;80;90;0;100",
      "'mail1 mailqueue x'=1234",
    ]);
    expect(lines.filter((l) => l.includes('|') && !l.includes('`'))).toHaveLength(1);
  });
});
