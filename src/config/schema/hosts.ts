/** `hosts.<name>`: the machines bo reaches over SSH (src/remote/). */
import { z } from 'zod';
import type { Resolved } from '../resolve-secrets.ts';
import { Duration, Secret } from './common.ts';
import { HostLimits } from './limits.ts';

export const Host = z.strictObject({
  address: z.string().min(1),
  port: z.int().min(1).max(65535).default(22),
  user: z.string().min(1).default('root'),
  privateKey: z.string().min(1).describe('Path to the private key bo authenticates with'),
  passphrase: Secret.optional().describe('Passphrase of the private key'),
  hostKey: z
    .union([z.string(), z.array(z.string()).min(1)])
    .optional()
    .describe('Pinned host key fingerprint(s), "SHA256:…" as ssh-keygen -lf prints'),
  knownHosts: z
    .string()
    .optional()
    .describe(
      'OpenSSH known_hosts file holding the host key; default <stateDir>/known_hosts (see `bo hosts trust`)',
    ),
  connectTimeout: Duration.prefault('15s'),
  commandTimeout: Duration.prefault('10m').describe('A remote command silent for this long is aborted'),
  keepaliveInterval: Duration.prefault('15s'),
  sudo: z.boolean().default(false).describe('Run commands through `sudo -n`'),
  roles: z
    .array(z.string())
    .default([])
    .describe('Roles such as storage or transmission; health checks select by role'),
  limits: HostLimits.optional().describe(
    'Keep the server usable during backups: a read rate and low CPU/IO priority for its tar (README "Limits")',
  ),
});
export type Host = Resolved<z.infer<typeof Host>>;
