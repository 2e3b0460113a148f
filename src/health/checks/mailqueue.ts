import { type ProbeCheck, result } from '../check.ts';
import { span } from '../format.ts';
import { parseMailQueue } from '../parsers/mailqueue.ts';
import { gradeAbove, thresholdText } from '../thresholds.ts';
import { worst } from '../types.ts';

/** Summarised on the host so a queue of 100 000 messages costs one line, not 50 MB. */
const POSTFIX = `postqueue -j 2>&1 | awk '
  /^\\{/ { n++; if ($0 ~ /"queue_name": *"deferred"/) d++;
           if (match($0, /"arrival_time": *[0-9]+/)) { t = substr($0, RSTART, RLENGTH); sub(/.*: */, "", t);
             if (min == "" || t + 0 < min + 0) min = t }
           if (n <= 200) print; next }
  { print }
  END { printf "@@bo-count %d %d %s\\n", n, d, min }'`;

/** Postfix or Exim queue depth (and for Postfix the oldest message and the top delay reason). */
export const mailqueueCheck: ProbeCheck<'mailqueue'> = {
  type: 'probe',
  mayHang: true,
  name: 'mailqueue',
  command: () =>
    [
      `if command -v postqueue >/dev/null 2>&1; then echo "@@bo-mta postfix"; ${POSTFIX}`,
      'elif command -v exim >/dev/null 2>&1; then echo "@@bo-mta exim"; exim -bpc 2>&1',
      'elif command -v exim4 >/dev/null 2>&1; then echo "@@bo-mta exim"; exim4 -bpc 2>&1',
      'else echo "@@bo-mta none"; fi',
    ].join('\n'),
  guard: () => ({
    test: 'command -v postqueue >/dev/null 2>&1 || command -v exim >/dev/null 2>&1 || command -v exim4 >/dev/null 2>&1',
    otherwise: 'echo "@@bo-mta none"',
  }),
  evaluate(out, spec, ctx) {
    const q = parseMailQueue(out.stdout);
    if (q.mta === 'none') {
      return [
        result(ctx, 'mailqueue', {
          status: 'unknown',
          message: 'neither postqueue (Postfix) nor exim found',
        }),
      ];
    }
    if (q.mta === 'error') {
      return [
        result(ctx, 'mailqueue', { status: 'unknown', message: `cannot read the mail queue: ${q.reason}` }),
      ];
    }
    const byCount = gradeAbove(q.count, spec.warn, spec.crit);
    const ageMs = q.oldest !== undefined ? ctx.now.getTime() - q.oldest * 1000 : undefined;
    const byAge = ageMs !== undefined && q.count > 0 && ageMs > spec.maxAge ? 'warn' : 'ok';
    const status = worst([byCount, byAge]);
    const parts = [`${q.count} message${q.count === 1 ? '' : 's'} queued (${q.mta})`];
    if (q.deferred !== undefined && q.deferred > 0) parts[0] += `, ${q.deferred} deferred`;
    if (byCount !== 'ok') parts[0] += ` (${thresholdText(byCount, spec)})`;
    if (ageMs !== undefined && q.count > 0) parts.push(`oldest ${span(ageMs)}`);
    if (q.reasons[0]) parts.push(`top reason: ${q.reasons[0].reason}`);
    if (status !== 'ok')
      parts.push(q.mta === 'postfix' ? 'inspect with `mailq | tail`' : 'inspect with `exim -bp`');
    return [
      result(ctx, 'mailqueue', {
        status,
        value: q.count,
        unit: 'messages',
        threshold: { warn: spec.warn, crit: spec.crit },
        message: parts.join('; '),
        data: {
          deferred: q.deferred ?? 0,
          ...(ageMs !== undefined ? { oldestSeconds: Math.round(ageMs / 1000) } : {}),
        },
      }),
    ];
  },
};
