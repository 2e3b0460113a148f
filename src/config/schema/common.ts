/** Building blocks every section uses: names, durations, secrets, ports. */
import { z } from 'zod';
import { parseDuration } from '../duration.ts';
import { SecretRef } from '../secret.ts';

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
