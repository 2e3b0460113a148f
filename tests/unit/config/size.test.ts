import { describe, expect, it } from 'vitest';
import { parseRate, parseSize } from '../../../src/config/size.ts';

describe('parseSize', () => {
  it('reads IEC and SI units, any case, with or without a space', () => {
    expect(parseSize('4GiB')).toBe(4 * 1024 ** 3);
    expect(parseSize('20 MiB')).toBe(20 * 1024 ** 2);
    expect(parseSize('500MB')).toBe(500_000_000);
    expect(parseSize('1.5kib')).toBe(1536);
    expect(parseSize('123')).toBe(123);
    expect(parseSize('2TiB')).toBe(2 * 1024 ** 4);
  });
  it('refuses what it cannot read', () => {
    for (const bad of ['', 'GiB', '4 GiBs', '-1MiB', '1e3', 'four']) expect(parseSize(bad)).toBeUndefined();
  });
});

describe('parseRate', () => {
  it('reads a size per second, the "/s" being optional', () => {
    expect(parseRate('20MiB/s')).toBe(20 * 1024 ** 2);
    expect(parseRate('512KiB')).toBe(512 * 1024);
    expect(parseRate('x/s')).toBeUndefined();
  });
});
