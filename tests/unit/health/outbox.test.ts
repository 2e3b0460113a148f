import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb, type StateDb } from '../../../src/catalog/db.ts';
import {
  claimAlerts,
  enqueueAlerts,
  OUTBOX_BATCH,
  OUTBOX_MAX_AGE_MS,
  OUTBOX_MAX_ROWS,
  pendingAlerts,
  settleAlerts,
} from '../../../src/health/outbox.ts';
import type { Transition } from '../../../src/health/transitions.ts';

let dir: string;
let db: StateDb;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bo-outbox-'));
  db = openStateDb(dir);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function alert(subject: string, at = 0): Transition {
  const result = { host: 'files1', check: 'disk', subject, status: 'crit' as const, message: 'full' };
  return {
    host: 'files1',
    check: 'disk',
    subject,
    from: 'ok',
    to: 'crit',
    kind: 'change',
    at,
    since: at,
    result,
  };
}

describe('alert outbox', () => {
  it('claims oldest first per notifier, skips claimed rows, and keeps failed ones for the next run', () => {
    enqueueAlerts(db, ['hook', 'mail'], [alert('/a'), alert('/b')], 1000);
    enqueueAlerts(db, ['hook'], [alert('/c')], 2000);
    const first = claimAlerts(db, ['hook', 'mail'], 3000);
    expect(first.rows.get('hook')!.map((r) => r.alert.subject)).toEqual(['/a', '/b', '/c']);
    expect(first.rows.get('mail')!.map((r) => r.alert.subject)).toEqual(['/a', '/b']);
    // A concurrent run finds nothing to send: the rows are claimed.
    expect(claimAlerts(db, ['hook', 'mail'], 3001).rows.size).toBe(0);
    const hook = first.rows.get('hook')!;
    settleAlerts(
      db,
      [hook[0]!.id, ...first.rows.get('mail')!.map((r) => r.id)],
      [
        { id: hook[1]!.id, error: 'refused' },
        { id: hook[2]!.id, error: 'refused' },
      ],
    );
    expect(pendingAlerts(db)).toEqual(new Map([['hook', 2]]));
    const again = claimAlerts(db, ['hook', 'mail'], 4000).rows.get('hook')!;
    expect(again.map((r) => [r.alert.subject, r.attempts])).toEqual([
      ['/b', 1],
      ['/c', 1],
    ]);
    // A run that died holding a claim releases it after a while.
    expect(claimAlerts(db, ['hook'], 4000 + 11 * 60_000).rows.get('hook')).toHaveLength(2);
  });

  it('is bounded: a batch per run, a cap per notifier, an age limit, configured notifiers only', () => {
    const many = Array.from({ length: OUTBOX_MAX_ROWS + 5 }, (_, i) => alert(`/m${i}`));
    enqueueAlerts(db, ['hook'], many, 1000);
    enqueueAlerts(db, ['gone'], [alert('/x')], 1000);
    enqueueAlerts(db, ['mail'], [alert('/old')], 0);
    const { rows, dropped } = claimAlerts(db, ['hook', 'mail'], OUTBOX_MAX_AGE_MS + 500);
    // 5 over the cap (the oldest), the removed notifier's row, and the alert older than a day.
    expect(dropped).toBe(7);
    const batch = rows.get('hook')!;
    expect(batch).toHaveLength(OUTBOX_BATCH);
    expect(batch[0]!.alert.subject).toBe('/m5');
    expect(rows.has('mail')).toBe(false);
    expect(pendingAlerts(db)).toEqual(new Map([['hook', OUTBOX_MAX_ROWS]]));
  });
});
