/**
 * The run's log context: lines written by any logger (storage and hosts are built once with the
 * process's logger) while a run's code runs carry its runId, job and host, without duplicate keys.
 */
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger, withLogContext } from '../../src/log.ts';

function capture() {
  const out = new PassThrough();
  const lines: string[] = [];
  out.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  return { log: createLogger({ level: 'info', destination: out }), lines };
}

describe('log context', () => {
  it('adds the run fields to every line written inside it, across awaits and timers', async () => {
    const { log, lines } = capture();
    const storageLog = log.child({ storage: 's3' });
    log.info('before');
    await withLogContext({ runId: 'r1', job: 'web', host: 'files1' }, async () => {
      storageLog.warn({ part: 3 }, 'Retrying part upload');
      await sleep(1);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          log.info('in a timer');
          resolve();
        }, 1),
      );
    });
    log.info('after');
    await sleep(1);
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((r) => r.msg)).toEqual(['before', 'Retrying part upload', 'in a timer', 'after']);
    expect(recs[0]).not.toHaveProperty('runId');
    expect(recs[1]).toMatchObject({ runId: 'r1', job: 'web', host: 'files1', storage: 's3', part: 3 });
    expect(recs[2]).toMatchObject({ runId: 'r1', job: 'web' });
    expect(recs[3]).not.toHaveProperty('runId');
  });

  it('keeps concurrent runs apart', async () => {
    const { log, lines } = capture();
    const body = (id: string) =>
      withLogContext({ runId: id, job: id }, async () => {
        for (let i = 0; i < 3; i++) {
          await sleep(1);
          log.info({ i }, 'step');
        }
      });
    await Promise.all([body('a'), body('b')]);
    await sleep(1);
    for (const l of lines) {
      const r = JSON.parse(l) as Record<string, unknown>;
      expect(r.runId).toBe(r.job);
    }
    expect(lines).toHaveLength(6);
  });

  it("lets the logger's own bindings and a line's fields win, without duplicate keys", async () => {
    const { log, lines } = capture();
    withLogContext({ runId: 'r1', job: 'web', host: 'files1' }, () => {
      log.child({ host: 'db1' }).warn('SSH connection lost');
      log.info({ job: 'explicit' }, 'line');
    });
    await sleep(1);
    expect(lines[0]!.match(/"host":/g)).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ runId: 'r1', host: 'db1' });
    expect(lines[1]!.match(/"job":/g)).toHaveLength(1);
    expect(JSON.parse(lines[1]!)).toMatchObject({ runId: 'r1', job: 'explicit' });
  });
});
