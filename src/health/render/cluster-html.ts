/** The page's cluster section (coordination: postgres): each node and what it runs. */
import { span } from '../format.ts';
import { esc } from './html.ts';

/** What the page shows of a cluster; the daemon fills it from its latest view of the database. */
export interface ClusterPanel {
  /** The node serving the page. */
  node: string;
  nodes: Array<{
    name: string;
    dead: boolean;
    stoppedAt?: string | undefined;
    heartbeatAt: string;
    running: number;
  }>;
  running: Array<{ job: string; node?: string | undefined; startedAt?: string | undefined }>;
  problems: string[];
}

export function clusterSection(c: ClusterPanel, now: Date): string {
  const ago = (iso: string) => span(Math.max(0, now.getTime() - Date.parse(iso)));
  const problems = c.problems
    .map(
      (p) =>
        `<li class="card s-crit"><div class="head"><span class="badge s-crit">CRIT</span><span class="host">cluster</span></div><p class="msg">${esc(p)}</p></li>`,
    )
    .join('');
  const node = (n: ClusterPanel['nodes'][number]) => {
    const state = n.dead ? 'crit' : n.stoppedAt ? 'warn' : 'ok';
    const word = n.dead ? 'DEAD' : n.stoppedAt ? 'STOPPED' : 'UP';
    const runs = c.running.filter((r) => r.node === n.name).map((r) => r.job);
    return `<li class="card s-${state}"><div class="head"><span class="badge s-${state}">${word}</span><span class="host">${esc(n.name)}${n.name === c.node ? ' (this page)' : ''}</span><span class="muted">heartbeat ${esc(ago(n.heartbeatAt))} ago</span></div><p class="msg">${runs.length ? `running: ${esc(runs.join(', '))}` : 'idle'}</p></li>`;
  };
  return `<h2>Cluster</h2>${problems ? `<ul>${problems}</ul>` : ''}<ul>${c.nodes.map(node).join('')}</ul>`;
}
