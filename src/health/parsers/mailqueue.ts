/** Parsers for mail queue probes: Postfix `postqueue -j` (summarised by awk on the host) and `exim -bpc`. Pure. */

export interface MailQueue {
  mta: 'postfix' | 'exim';
  count: number;
  /** Messages in the deferred queue (Postfix). */
  deferred?: number;
  /** Arrival time of the oldest message, seconds since the epoch (Postfix). */
  oldest?: number;
  /** Most frequent delay reasons among the sampled messages, most common first. */
  reasons: Array<{ reason: string; count: number }>;
}

export type MailQueueProbe = MailQueue | { mta: 'none' } | { mta: 'error'; reason: string };

/**
 * The probe prints "@@bo-mta postfix|exim|none", then for Postfix up to 200 JSON lines from
 * `postqueue -j` and a summary "@@bo-count N DEFERRED OLDEST" computed over the whole queue
 * (a queue of 100 000 messages is summarised on the host, not shipped); for Exim the count.
 */
export function parseMailQueue(text: string): MailQueueProbe {
  const mta = /^@@bo-mta (\w+)/m.exec(text)?.[1];
  if (mta === 'none' || mta === undefined) return { mta: 'none' };
  const body = text
    .split('\n')
    .filter((l) => !l.startsWith('@@bo-mta'))
    .join('\n');
  if (mta === 'exim') {
    const n = /^\s*(\d+)\s*$/m.exec(body);
    return n ? { mta: 'exim', count: Number(n[1]), reasons: [] } : { mta: 'error', reason: firstText(body) };
  }
  const summary = /^@@bo-count (\d+) (\d+) ?(\d*)$/m.exec(body);
  // "postqueue: fatal: Queue report unavailable - mail system is down" still ends in a summary.
  const noise = body.split('\n').filter((l) => l.trim() && !l.startsWith('{') && !l.startsWith('@@bo-'));
  if (!summary || (summary[1] === '0' && noise.length > 0))
    return { mta: 'error', reason: firstText(noise.join('\n') || body) };
  const reasons = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const msg = JSON.parse(line) as { recipients?: Array<{ delay_reason?: string }> };
      for (const r of msg.recipients ?? []) {
        if (r.delay_reason)
          reasons.set(shorten(r.delay_reason), (reasons.get(shorten(r.delay_reason)) ?? 0) + 1);
      }
    } catch {
      // A line cut by the sample limit; the summary still counts it.
    }
  }
  const q: MailQueue = {
    mta: 'postfix',
    count: Number(summary[1]),
    deferred: Number(summary[2]),
    reasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
  };
  if (summary[3]) q.oldest = Number(summary[3]);
  return q;
}

/** Delay reasons name the remote host and IP; keep them short enough for one line. */
function shorten(reason: string): string {
  return reason.length > 120 ? `${reason.slice(0, 117)}...` : reason;
}

function firstText(body: string): string {
  return (
    body
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? 'no output'
  );
}
