import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReference } from '../../../src/config/reference.ts';

describe('config/REFERENCE.md', () => {
  it('is generated from the current schema (run `npm run docs`)', () => {
    const onDisk = readFileSync(new URL('../../../config/REFERENCE.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderReference());
  });

  it('documents every top-level section', () => {
    const text = renderReference();
    for (const key of [
      '`stateDir`',
      '`storage.<name>[type=s3].bucket`',
      '`hosts.<name>.hostKey`',
      '`jobs.<name>[kind=backup].paths`',
    ]) {
      expect(text).toContain(key);
    }
  });
});
