import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../../src/errors.ts';
import type { RemoteProcess } from '../../../src/remote/host.ts';
import { createLimiter } from '../../../src/remote/limit.ts';
import { capture, runCommand } from '../../../src/remote/run.ts';

describe('capture', () => {
  it('keeps everything under the cap', async () => {
    expect(await capture(Readable.from([Buffer.from('a'), Buffer.from('b')]), 10)).toBe('ab');
  });

  it('keeps the first maxBytes and notes how much was dropped', async () => {
    const text = await capture(Readable.from([Buffer.from('12345'), Buffer.from('67890')]), 7);
    expect(text).toBe('1234567\n[output truncated: 3 more bytes not shown]');
  });

  it('resolves with what it has when the stream is destroyed early', async () => {
    const s = new PassThrough();
    const p = capture(s, 100);
    s.write('partial');
    setImmediate(() => s.destroy(new Error('boom')));
    expect(await p).toBe('partial');
  });
});

describe('runCommand', () => {
  it('writes the input, closes stdin and waits for exit', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const proc: RemoteProcess = {
      stdin,
      stdout,
      stderr: Readable.from([]),
      done: new Promise((resolve) => stdin.on('finish', () => resolve({ code: 3, signal: null }))),
      kill: () => {},
    };
    stdin.pipe(stdout);
    const r = await runCommand(async () => proc, 'cat', { input: 'hello' });
    expect(r).toEqual({ code: 3, signal: null, stdout: 'hello', stderr: '' });
  });
});

describe('createLimiter', () => {
  it('queues beyond its size and serves waiters in order', async () => {
    const l = createLimiter(2);
    const a = await l.acquire();
    const b = await l.acquire();
    const order: string[] = [];
    const c = l.acquire().then((r) => {
      order.push('c');
      return r;
    });
    const d = l.acquire().then((r) => {
      order.push('d');
      return r;
    });
    expect(l.waiting).toBe(2);
    a();
    a(); // releasing twice is harmless
    (await c)();
    b();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    expect(l.active).toBe(0);
  });

  it('rejects a waiter whose signal aborts and forgets it', async () => {
    const l = createLimiter(1);
    const release = await l.acquire();
    const ac = new AbortController();
    const waiting = l.acquire(ac.signal);
    ac.abort();
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    expect(l.waiting).toBe(0);
    release();
    expect(l.active).toBe(0);
  });
});
