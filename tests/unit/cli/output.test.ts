import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOutput } from '../../../src/cli/output.ts';

/** A stdout that takes nothing until `release` is called: a pipe whose reader is busy. */
function slowPipe() {
  const pending: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 16,
    write(_chunk, _enc, cb) {
      pending.push(cb);
    },
  });
  const release = () => {
    for (const cb of pending.splice(0)) cb();
  };
  return { stream: stream as unknown as NodeJS.WriteStream, release };
}

describe('output.drain', () => {
  it('waits until stdout has taken what was printed, so a slow pipe never piles rows up in memory', async () => {
    const pipe = slowPipe();
    const out = createOutput(pipe.stream, pipe.stream);
    out.print('x'.repeat(100));
    let drained = false;
    const waiting = out.drain().then(() => {
      drained = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    pipe.release();
    await waiting;
    expect(drained).toBe(true);
    await out.drain(); // nothing pending: resolves at once
  });

  it('does not wait forever for a stdout that closed', async () => {
    const pipe = slowPipe();
    const out = createOutput(pipe.stream, pipe.stream);
    out.print('x'.repeat(100));
    const waiting = out.drain();
    pipe.stream.destroy();
    await waiting;
  });
});
