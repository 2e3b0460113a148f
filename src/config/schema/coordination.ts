/** The `coordination:` section: several daemons as one cluster (src/cluster/). */
import { z } from 'zod';
import { Duration, Secret } from './common.ts';

/** PostgreSQL as the cluster's shared queue, run history and state (pg-boss). */
export const Coordination = z.strictObject({
  type: z.literal('postgres').describe('The only coordination backend: PostgreSQL (through pg-boss)'),
  url: Secret.describe(
    'Connection URL, postgres://user:pass@host:5432/db (a secret: never logged); `?sslmode=require` or the tls options below turn on TLS',
  ),
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier')
    .default('bo')
    .describe('PostgreSQL schema holding bo’s tables (pg-boss uses `<schema>_boss`)'),
  tls: z
    .strictObject({
      ca: z.string().optional().describe('PEM file of the CA that signed the server certificate'),
      rejectUnauthorized: z
        .boolean()
        .default(true)
        .describe('Refuse a server certificate that does not verify (turn off only for tests)'),
    })
    .optional()
    .describe('TLS to PostgreSQL; absent: as the URL says (`sslmode`)'),
  nodeName: z
    .string()
    .min(1)
    .optional()
    .describe('This daemon’s name in the cluster (default: the hostname and the socket path); node-local'),
  nodeConcurrency: z
    .int()
    .min(1)
    .max(256)
    .optional()
    .describe(
      'Runs at once on this node (default: daemon.concurrency, which in a cluster is the limit across all nodes); node-local',
    ),
  leaseTimeout: Duration.prefault('20s').describe(
    'A node that has not renewed its lease of a run for this long loses it: the run is marked abandoned and retried elsewhere (at least 10s)',
  ),
  nodeTimeout: Duration.prefault('30s').describe(
    'A node whose heartbeat is older than this is reported dead (bo status, the report, an alert)',
  ),
});
export type Coordination = z.infer<typeof Coordination>;
