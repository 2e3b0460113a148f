/** The `daemon:` section. */
import { z } from 'zod';
import { Duration } from './common.ts';

/** The long-running service, `bo daemon` (src/daemon/). */
export const Daemon = z.strictObject({
  socket: z
    .string()
    .min(1)
    .default('/run/bo/bo.sock')
    .describe(
      'Control socket (unix, mode 0660) through which `bo status`, `bo jobs` and `bo backup now` talk to the daemon; members of its group may use it',
    ),
  concurrency: z
    .int()
    .min(1)
    .max(256)
    .default(4)
    .describe('Runs at once across all hosts; further runs wait in the queue'),
  perHostConcurrency: z
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe('Runs at once against one host (prune, verify and health jobs only count globally)'),
  shutdownGrace: Duration.prefault('60s').describe(
    'On SIGTERM/SIGINT, how long running jobs may finish before they are cancelled (keep systemd TimeoutStopSec above it)',
  ),
  historyRetention: z
    .strictObject({
      maxAge: Duration.prefault('90d').describe('Runs older than this leave the run history'),
      perJob: z.int().min(1).default(1000).describe('At most this many runs per job are kept'),
    })
    .prefault({})
    .describe(
      'Bounds on the run history in the state database; the newest successful run of each job is always kept',
    ),
  http: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Off by default: unlike the control socket, a TCP port on loopback is open to every local user (the page is read-only, but shows hosts, jobs and problems)',
        ),
      listen: z
        .string()
        .regex(/^(\[[0-9A-Fa-f:.]+\]|[^:\s]+):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:9810 or [::1]:9810')
        .default('127.0.0.1:9810')
        .describe(
          'Address of the page; it has no authentication, so keep it on loopback (port 0 picks a free one)',
        ),
    })
    .prefault({})
    .describe('The latest health report as a web page (/), Prometheus metrics (/metrics) and /healthz'),
});
export type Daemon = z.infer<typeof Daemon>;
