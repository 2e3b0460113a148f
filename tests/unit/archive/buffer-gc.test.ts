import { describe, expect, it } from 'vitest';
import { noteStreamed } from '../../../src/archive/buffer-gc.ts';

describe('noteStreamed', () => {
  it('collects young garbage every few MiB without exposing gc globally', () => {
    for (let i = 0; i < 100; i++) noteStreamed(1024 * 1024);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
