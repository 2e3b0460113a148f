import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../src/catalog/db.ts';
import { migrations } from '../../../src/catalog/migrations.ts';
import { getRun } from '../../../src/catalog/runs.ts';
import { BoError } from '../../../src/errors.ts';
import { stateDbHistory } from '../../../src/jobs/history.ts';
import type { JobRunner } from '../../../src/jobs/kinds.ts';
import { manualRun, runRecorded } from '../../../src/jobs/run-recorded.ts';
import { fakeClock } from '../daemon/fake-clock.ts';
import { parseConfig, stubServices } from '../daemon/harness.ts';

function setup() {
  const db = new DatabaseSync(':memory:');
  migrate(db, migrations);
  const logs: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => logs.push(JSON.parse(s)) });
  const config = parseConfig({ jobs: { j: { host: 'h1', paths: ['/srv'], storage: 's' } } });
  const clock = fakeClock('2026-01-05T12:00:00Z');
  const services = stubServices(config, log, clock);
  const history = stateDbHistory(db, { pid: 1, boot: 'x' });
  const run = (body: JobRunner, signal = new AbortController().signal) =>
    runRecorded(
      manualRun('j', config.jobs.j!, clock.now()),
      config.jobs.j!,
      { services, log, signal, history },
      body,
    );
  return { db, logs, run };
}

describe('runRecorded, the one door', () => {
  it('records the start, then the end with the result, and returns the finished record', async () => {
    const { db, run } = setup();
    let seen: unknown;
    const r = await run(async (_n, _j, ctx) => {
      seen = getRun(db, ctx.runId);
      return { summary: 'j: done', backupId: 'b1', bytes: 5, files: 1 };
    });
    expect(seen).toMatchObject({
      job: 'j',
      kind: 'backup',
      host: 'h1',
      trigger: 'manual',
      outcome: undefined,
    });
    expect(r).toMatchObject({ outcome: 'ok', backupId: 'b1', bytes: 5, files: 1, summary: 'j: done' });
    expect(getRun(db, r.id)).toMatchObject({ outcome: 'ok', backupId: 'b1', startedAt: r.startedAt });
  });

  it('a typed error fails the run with its hint; anything else is also logged as a bug', async () => {
    const { logs, run } = setup();
    const typed = await run(async () => {
      throw new BoError('tar on h1 failed', { hint: 'install tar' });
    });
    expect(typed).toMatchObject({ outcome: 'failed', error: 'tar on h1 failed', hint: 'install tar' });
    expect(logs.filter((l) => /this is a bug/.test(String(l.msg)))).toEqual([]);
    const bug = await run(async () => {
      throw new TypeError('x is undefined');
    });
    expect(bug).toMatchObject({ outcome: 'failed', error: 'x is undefined' });
    expect(logs.filter((l) => /this is a bug/.test(String(l.msg)))).toHaveLength(1);
  });

  it('whatever a cancelled run throws, it ended cancelled, and no bug is logged', async () => {
    const { db, logs, run } = setup();
    const ac = new AbortController();
    const r = await run(async () => {
      ac.abort();
      throw new TypeError('stream destroyed');
    }, ac.signal);
    expect(r.outcome).toBe('cancelled');
    expect(getRun(db, r.id)?.outcome).toBe('cancelled');
    expect(logs.filter((l) => /this is a bug/.test(String(l.msg)))).toEqual([]);
  });

  it('a history that cannot be written is logged, never fatal', async () => {
    const { db, logs, run } = setup();
    db.close();
    const r = await run(async () => ({ summary: 'ok' }));
    expect(r.outcome).toBe('ok');
    expect(logs.filter((l) => l.msg === 'Could not write the run history').map((l) => l.what)).toEqual([
      'started',
      'finished',
    ]);
  });
});
