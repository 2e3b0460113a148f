import { formatBytes } from '../../sizes.ts';
import { type ProbeCheck, probeFailed, result } from '../check.ts';
import { forecastFull } from '../forecast.ts';
import { approx } from '../format.ts';
import { DF_INODES_MARK, DF_OUTPUT, PSEUDO_FS, parseDf, usedPercent } from '../parsers/df.ts';
import { gradeAbove, gradeBelow, thresholdText } from '../thresholds.ts';
import { statusRank, worst } from '../types.ts';
import { selectMounts } from './mounts.ts';

/** Used space per mount; the history gives a fill-rate forecast ("full in ~3 days"). */
export const diskCheck: ProbeCheck<'disk'> = {
  type: 'probe',
  mayHang: true,
  name: 'disk',
  command: dfCommand,
  fallback: dfFallback,
  historyWindow: () => 7 * 86_400_000,
  evaluate(out, spec, ctx) {
    const rows = parseDf(out.stdout).space;
    if (rows.length === 0) return [probeFailed(ctx, 'disk', out, 'df')];
    const selected = selectMounts(rows, spec, (r) => !PSEUDO_FS.has(r.type) && r.used + r.avail > 0);
    if (selected.length === 0) {
      return [result(ctx, 'disk', { status: 'unknown', message: 'no matching filesystems in df output' })];
    }
    return selected.map((r) => {
      const used = usedPercent(r.used, r.avail);
      const byUse = gradeAbove(used, spec.warn, spec.crit);
      const forecast = forecastFull(ctx.history(r.mount), {
        at: ctx.now.getTime(),
        used: r.used,
        avail: r.avail,
      });
      const byTrend = forecast ? gradeBelow(forecast.fullInMs, spec.forecastWarn, spec.forecastCrit) : 'ok';
      const status = worst([byUse, byTrend]);
      // When the forecast decides the status, its value and thresholds are the ones reported
      // (hours to full), so JSON and /metrics explain the status; used % stays in data.
      const byForecast = forecast !== undefined && statusRank(byTrend) < statusRank(byUse);
      const forecastThreshold = {
        warn: hours(spec.forecastWarn),
        crit: hours(spec.forecastCrit),
        below: true,
      };
      // Rounded up like df's Capacity column, so the numbers match what on-call sees there.
      const parts = [`${Math.ceil(used)}% used, ${formatBytes(r.avail)} free of ${formatBytes(r.size)}`];
      if (byUse !== 'ok') parts[0] += ` (${thresholdText(byUse, spec, '%')})`;
      if (forecast && (byForecast || forecast.fullInMs < 30 * 86_400_000)) {
        parts.push(`full in ${approx(forecast.fullInMs)} at +${formatBytes(forecast.bytesPerDay)}/day`);
        if (byForecast) parts[parts.length - 1] += ` (${thresholdText(byTrend, forecastThreshold, 'h')})`;
      }
      if (status !== 'ok') parts.push(`find what grew: \`du -xh --max-depth=2 ${r.mount} | sort -h | tail\``);
      return result(ctx, 'disk', {
        subject: r.mount,
        status,
        ...(byForecast
          ? { value: hours(forecast.fullInMs), unit: 'hours', threshold: forecastThreshold }
          : { value: round(used), unit: '%', threshold: { warn: spec.warn, crit: spec.crit } }),
        message: parts.join('; '),
        data: {
          used: r.used,
          avail: r.avail,
          size: r.size,
          fs: r.type,
          usedPercent: round(used),
          ...(forecast ? { fullInHours: Math.round(forecast.fullInMs / 3_600_000) } : {}),
        },
      });
    });
  },
};

/** Space and inodes in one df process (shared with the inodes check: equal commands share a section). */
export function dfCommand(): string {
  return `df -B1 --output=${DF_OUTPUT}`;
}

/** dfs without --output (busybox): the POSIX form, twice. */
export function dfFallback(): string {
  return `df -PT -B1; echo "${DF_INODES_MARK}"; df -PTi`;
}

function hours(ms: number): number {
  return round(ms / 3_600_000);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
