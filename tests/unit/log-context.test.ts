/**
 * The run's log context: lines written by any logger (storage and hosts are built once with the
 * process's logger) while a run's code runs carry its runId, job and host, without duplicate keys.
 * Every JSON line has unique keys: a child logger's bindings, its parent's, the run context and a
 * line's own fields may name the same key, and JSON.parse would silently keep only the last of
 * them, so lines are checked with a scanner that sees repeated keys (tests/fixtures/json-keys.ts).
 */
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger, withLogContext } from '../../src/log.ts';
import { duplicateKeys } from '../fixtures/json-keys.ts';

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

describe('the duplicate-key scanner', () => {
  it('finds repeated keys at any depth, which JSON.parse hides', () => {
    expect(duplicateKeys('{"a":1,"b":{"c":[{"d":1,"d":2}]},"a":"x"}')).toEqual(['b.c[0].d', 'a']);
    expect(JSON.parse('{"a":1,"a":2}')).toEqual({ a: 2 });
    expect(duplicateKeys('{"a":"\\"a\\":1,","b":[1,-2.5e3,true,null,{}],"c":{}}')).toEqual([]);
    expect(() => duplicateKeys('{"a":1')).toThrow(/not JSON/);
  });
});

describe('log lines', () => {
  it('a child that binds a key its parent bound: the parent keeps it, a different value is renamed', async () => {
    const { log, lines } = capture();
    const run = log.child({ runId: 'r1', job: 'tidy', kind: 'prune' });
    run.child({ job: 'web', kind: 'prune' }).child({ job: 'db', storage: 's3' }).info('x');
    await sleep(1);
    expect(duplicateKeys(lines[0]!)).toEqual([]);
    expect(JSON.parse(lines[0]!)).toEqual(
      expect.objectContaining({
        runId: 'r1',
        job: 'tidy',
        kind: 'prune',
        job_: 'web',
        job__: 'db',
        storage: 's3',
      }),
    );
    expect(Object.keys(JSON.parse(lines[0]!))).not.toContain('kind_');
  });

  it("a line's field that a binding also names: unique keys, neither value lost", async () => {
    const { log, lines } = capture();
    const run = log.child({ runId: 'r1', job: 'fleet', kind: 'health' });
    run.info({ kind: 'change', host: 'files1' }, 'Health state changed');
    run.info({ job: 'fleet', n: 1 }, 'same value');
    await sleep(1);
    for (const l of lines) expect(duplicateKeys(l), l).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'health', kind_: 'change', host: 'files1' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ job: 'fleet', n: 1 });
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('job_');
  });

  it('fields named like the record’s own keys (msg, level, time, app) do not repeat them', async () => {
    const { log, lines } = capture();
    log.warn({ msg: 'inner', level: 'x', time: 1, app: 'other' }, 'outer');
    await sleep(1);
    expect(duplicateKeys(lines[0]!)).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'outer', level: 40, app: 'bo', msg_: 'inner' });
  });

  it('the run context, bindings and fields together: unique keys', async () => {
    const { log, lines } = capture();
    withLogContext({ runId: 'r1', job: 'web', kind: 'backup', host: 'files1' }, () => {
      log.child({ job: 'web' }).child({ host: 'files1' }).info({ kind: 'x', runId: 'r1' }, 'line');
    });
    await sleep(1);
    expect(duplicateKeys(lines[0]!)).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ runId: 'r1', job: 'web', host: 'files1', kind: 'x' });
  });
});
