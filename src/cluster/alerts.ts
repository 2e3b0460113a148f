/**
 * A dead node is a health problem with an alert: each node's state (ok, or crit once its
 * heartbeat is older than coordination.nodeTimeout) is kept in the cluster's database
 * (`documents`, key `node-alert:<name>`), and a change of state is claimed by one conditional
 * write, so whichever live node notices first sends the alert, once, to `health.notify`.
 */
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { dispatch } from '../notify/dispatch.ts';
import type { Alert } from '../notify/notifier.ts';
import { notifiersFor } from '../notify/registry.ts';
import type { ClusterNode } from './nodes.ts';
import type { PgPool } from './pg.ts';

type NodeState = 'ok' | 'crit';

/** Claims each node's state change in the database; returns the alerts this node must send. */
export async function claimNodeAlerts(
  pool: PgPool,
  s: string,
  nodes: ClusterNode[],
  now: number,
): Promise<Alert[]> {
  const alerts: Alert[] = [];
  for (const n of nodes) {
    const to: NodeState = n.dead ? 'crit' : 'ok';
    const key = `node-alert:${n.name}`;
    const value = JSON.stringify({ state: to, since: now });
    const fresh = await pool.query(
      `INSERT INTO ${s}.documents (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING 1`,
      [key, value],
    );
    let from: NodeState | undefined;
    if (fresh.rowCount === 1) from = to === 'crit' ? 'ok' : undefined;
    else {
      // Of nodes racing to the same change, one row update wins (the others re-check and skip).
      const changed = await pool.query(
        `UPDATE ${s}.documents SET value = $2, updated_at = now() WHERE key = $1 AND value->>'state' <> $3 RETURNING 1`,
        [key, value, to],
      );
      if (changed.rowCount === 1) from = to === 'crit' ? 'ok' : 'crit';
    }
    if (!from) continue;
    alerts.push({
      host: n.name,
      check: 'cluster-node',
      subject: n.name,
      from,
      to,
      kind: 'change',
      at: now,
      since: now,
      result: {
        message: n.dead
          ? `cluster node ${n.name} is dead: last heartbeat ${n.heartbeatAt}; its runs are retried on other nodes`
          : `cluster node ${n.name} is back: heartbeat ${n.heartbeatAt}`,
      },
    });
  }
  return alerts;
}

export async function sendNodeAlerts(
  alerts: Alert[],
  o: { config: Config; log: Logger; clock: Clock; signal: AbortSignal },
): Promise<void> {
  if (alerts.length === 0) return;
  for (const a of alerts)
    o.log[a.to === 'crit' ? 'error' : 'info']({ node: a.subject, to: a.to }, 'Cluster node alert');
  const summary = alerts.map((a) => a.result.message).join('; ');
  await dispatch(
    notifiersFor(o.config, o.config.health.notify),
    { type: 'health', alerts, summary },
    {
      log: o.log,
      clock: o.clock,
      signal: o.signal,
      attempts: 3,
      retryDelayMs: 1000,
    },
  );
}
