/** Building blocks every section uses: names, durations, secrets, ports. */
import { z } from 'zod';
import { formatBytes } from '../../sizes.ts';
import { parseDuration } from '../duration.ts';
import { SecretRef } from '../secret.ts';
import { parseRate, parseSize } from '../size.ts';

export const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'names use letters, digits, ".", "_" and "-" (max 63)');

export const Duration = z
  .union([z.string(), z.number().nonnegative()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v * 1000;
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration "${v}" (examples: 30s, 10m, 2h, 14d)` });
      return z.NEVER;
    }
    return ms;
  })
  .describe('A duration such as 30s, 10m, 2h or 14d (a bare number is seconds)');

/** A size in bytes: "4GiB", "500MB", or a bare number of bytes; within [min, max]. */
export function byteSize(min: number, max: number) {
  return z.union([z.string(), z.int().nonnegative()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : parseSize(v);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid size "${v}" (examples: 4GiB, 500MB, 64KiB)` });
      return z.NEVER;
    }
    if (n < min || n > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${v} is out of range: between ${formatBytes(min)} and ${formatBytes(max)}`,
      });
      return z.NEVER;
    }
    return n;
  });
}

/** A rate in bytes per second: "20MiB/s" (the "/s" may be left out), or a bare number of bytes per second. */
export const ByteRate = z
  .union([z.string(), z.number().positive()])
  .transform((v, ctx) => {
    const n = typeof v === 'number' ? v : parseRate(v);
    if (n === undefined || n <= 0) {
      ctx.addIssue({ code: 'custom', message: `invalid rate "${v}" (examples: 20MiB/s, 500KiB/s)` });
      return z.NEVER;
    }
    return n;
  })
  .describe('A rate such as 20MiB/s or 500KB/s (a bare number is bytes per second)');

const SECRET_SHAPES = 'secrets must be { env: NAME }, { file: PATH } or { credential: NAME }';
export const Secret = z
  .union(
    [
      z.strictObject({ env: z.string().min(1) }),
      z.strictObject({ file: z.string().min(1) }),
      z.strictObject({ credential: z.string().min(1) }),
    ],
    {
      error: (iss) =>
        iss.code === 'invalid_union'
          ? `${SECRET_SHAPES}${typeof iss.input === 'string' ? ', not a plain string' : ''}`
          : undefined,
    },
  )
  // Only named here: load.ts reads it (resolve-secrets.ts); the Resolved<…> types say SecretValue.
  .transform((spec) => new SecretRef(spec))
  .describe('A secret: { env: NAME }, { file: PATH } or { credential: NAME } (systemd LoadCredential)');

export const AgeRecipient = z
  .string()
  .regex(/^age1[02-9ac-hj-np-z]{58}$/, 'not an age X25519 recipient (age1…)')
  .describe('An age X25519 recipient public key');

export const Port = z.int().min(1).max(65535);

/**
 * zod skips a refinement once any part of the value failed. A cross-field rule should still run
 * when the fields it reads parsed, so that one pass reports every problem (unknown keys never
 * matter to a rule).
 */
export function whenParsed(...fields: string[]): { when: (payload: z.core.ParsePayload) => boolean } {
  return {
    when: (payload) =>
      payload.issues.every(
        (i) =>
          i.code === 'unrecognized_keys' ||
          (i.path !== undefined && i.path.length > 0 && !fields.includes(String(i.path[0]))),
      ),
  };
}
