import { describe, expect, it } from 'vitest';
import { compactHeap, noteStreamed } from '../../../src/archive/buffer-gc.ts';

describe('noteStreamed', () => {
  it('collects young garbage every few MiB without exposing gc globally', () => {
    for (let i = 0; i < 100; i++) noteStreamed(1024 * 1024);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});

describe('compactHeap', () => {
  it('frees old-generation garbage and gives its pages back', async () => {
    // Garbage that lived through a few young collections (as a config load's does) sits in the
    // old generation, where V8 may leave it for minutes.
    let kept: object[] = [];
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 20_000; i++) kept.push({ i, s: `value ${round} ${i}` });
      await new Promise((r) => setImmediate(r));
    }
    expect(kept.length).toBe(800_000);
    kept = [];
    const before = process.memoryUsage().heapTotal;
    compactHeap();
    const after = process.memoryUsage().heapTotal;
    expect(before - after).toBeGreaterThan(30 * 1024 * 1024);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
