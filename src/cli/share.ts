import { UsageError } from '../errors.ts';

/** "10%" or "10" → 0.1; a usage error unless 0 < share ≤ 100%. */
export function parseShare(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const v = m ? Number(m[1]) / 100 : Number.NaN;
  if (!(v > 0 && v <= 1))
    throw new UsageError(`${flag} wants a percentage above 0 and at most 100, e.g. 10%; got "${text}"`);
  return v;
}
