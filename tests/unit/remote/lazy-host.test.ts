import { describe, expect, it } from 'vitest';
import type { Host } from '../../../src/remote/host.ts';
import { lazyHost } from '../../../src/remote/registry.ts';

function fake(calls: string[]): Host {
  return {
    name: 'h',
    exec: async () => {
      throw new Error('not used');
    },
    run: async (command) => {
      calls.push(command);
      return { code: 0, signal: null, stdout: command, stderr: '' };
    },
    close: async () => {
      calls.push('close');
    },
  };
}

describe('lazyHost', () => {
  it('loads the implementation once, on first use', async () => {
    const calls: string[] = [];
    let loads = 0;
    const h = lazyHost('h', async () => {
      loads++;
      return fake(calls);
    });
    expect(loads).toBe(0);
    await Promise.all([h.run('a'), h.run('b')]);
    await h.close();
    expect(loads).toBe(1);
    expect(calls).toEqual(['a', 'b', 'close']);
  });
  it('closing a host that was never used loads nothing', async () => {
    let loads = 0;
    const h = lazyHost('h', async () => {
      loads++;
      return fake([]);
    });
    await h.close();
    expect(loads).toBe(0);
  });
});
