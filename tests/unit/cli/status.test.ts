import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../src/catalog/db.ts';
import { migrations } from '../../../src/catalog/migrations.ts';
import { finishRun, insertRun, type RunOutcome } from '../../../src/catalog/runs.ts';
import { renderStatus } from '../../../src/cli/commands/status.ts';
import { buildStatus } from '../../../src/daemon/status.ts';
import { parseConfig } from '../daemon/harness.ts';

const now = new Date('2026-01-05T12:00:00Z');
const config = parseConfig({ jobs: { j: { host: 'h1', paths: ['/srv'], storage: 's' } } });

function history() {
  const db = new DatabaseSync(':memory:');
  migrate(db, migrations);
  return db;
}

function run(db: DatabaseSync, id: string, at: string, outcome?: RunOutcome, owner = { pid: 1, boot: 'x' }) {
  insertRun(
    db,
    { id, job: 'j', kind: 'backup', trigger: 'manual', attempt: 1, queuedAt: at, startedAt: at },
    owner,
  );
  if (outcome) {
    finishRun(db, id, {
      finishedAt: new Date(Date.parse(at) + 60_000).toISOString(),
      outcome,
      ...(outcome === 'ok' ? { bytes: 2048, backupId: 'b1' } : { error: 'tar on h1 failed\nsecond line' }),
    });
  }
}

/** The job's row of the table. */
function row(db: DatabaseSync): string {
  const text = renderStatus(buildStatus({ config, db, now }), now, config);
  return text.split('\n').find((l) => l.startsWith('j '))!;
}

describe('bo status: the last success and the last attempt, side by side', () => {
  it('a failed run after a success shows both', () => {
    const db = history();
    run(db, 'a', '2026-01-05T11:00:00.000Z', 'ok');
    run(db, 'b', '2026-01-05T11:50:00.000Z', 'failed');
    expect(row(db)).toMatch(/ok 59m ago · 1m · source 2\.00 KiB\s+FAILED 9m ago: tar on h1 failed\s/);
  });

  it('an abandoned run (bo killed; no end recorded) after a success shows both, never "never ran"', () => {
    const db = history();
    run(db, 'a', '2026-01-05T11:00:00.000Z', 'ok');
    run(db, 'b', '2026-01-05T11:55:00.000Z', undefined, { pid: 1, boot: 'a-previous-boot' });
    expect(row(db)).not.toMatch(/never ran/);
    expect(row(db)).toMatch(
      /ok 59m ago · 1m · source 2\.00 KiB\s+ABANDONED, started 5m ago: bo stopped while the run was in progress/,
    );
  });

  it('a success that is also the last attempt is not repeated; no run at all is "never"', () => {
    const db = history();
    expect(row(db)).toMatch(/^j\s+backup\s+h1\s+never\s+-\s+-$/);
    run(db, 'a', '2026-01-05T11:00:00.000Z', 'ok');
    expect(row(db)).toMatch(/^j\s+backup\s+h1\s+ok 59m ago · 1m · source 2\.00 KiB\s+-\s+-$/);
    const header = renderStatus(buildStatus({ config, db, now }), now, config).split('\n')[0]!;
    expect(header).toMatch(/^JOB\s+KIND\s+HOST\s+LAST SUCCESS\s+LAST ATTEMPT\s+NEXT RUN$/);
  });
});
