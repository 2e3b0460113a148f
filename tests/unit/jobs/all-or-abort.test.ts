import { describe, expect, it } from 'vitest';
import { allOrAbort } from '../../../src/jobs/all-or-abort.ts';

describe('allOrAbort', () => {
  it('resolves all values when every task succeeds', async () => {
    await expect(allOrAbort([Promise.resolve(1), Promise.resolve('a')] as const, () => {})).resolves.toEqual([
      1,
      'a',
    ]);
  });

  it('aborts on the first failure and waits for the others to settle before rejecting', async () => {
    const events: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => {
      release = r;
    }).then(() => {
      events.push('slow settled');
    });
    const failing = Promise.reject(new Error('boom'));
    const p = allOrAbort([slow, failing] as const, () => {
      events.push('abort');
      setTimeout(release, 10);
    });
    await expect(p).rejects.toThrow('boom');
    expect(events).toEqual(['abort', 'slow settled']);
  });
});
