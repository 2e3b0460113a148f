import type { CheckResult } from '../types.ts';
import { checkLabel } from './labels.ts';

/** bo's units that the Monitoring Plugins guidelines know (s, ms, %), and the factor to get there. */
const UOM: Record<string, { uom: string; factor: number }> = {
  '%': { uom: '%', factor: 1 },
  s: { uom: 's', factor: 1 },
  ms: { uom: 'ms', factor: 1 },
  hours: { uom: 's', factor: 3600 },
  days: { uom: 's', factor: 86_400 },
};

/**
 * Performance data of the numeric results, one `'label'=value[UOM];warn;crit;min;max` item each
 * (Monitoring Plugins development guidelines). The label is "host check subject". Warn and crit
 * are ranges: `80` alerts above 80, `14:` below 14 (for checks where lower is worse). Units the
 * guidelines do not know (load/core, messages) go without one; hours and days become seconds.
 */
export function perfdata(results: readonly CheckResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.value === undefined || !Number.isFinite(r.value)) continue;
    const u = UOM[r.unit ?? ''] ?? { uom: '', factor: 1 };
    const t = r.threshold;
    const range = (v: number | undefined) =>
      v === undefined ? '' : `${num(v * u.factor)}${t?.below ? ':' : ''}`;
    const fields = [
      `${num(r.value * u.factor)}${u.uom}`,
      range(t?.warn),
      range(t?.crit),
      ...(u.uom === '%' ? ['0', '100'] : []),
    ];
    while (fields.at(-1) === '') fields.pop();
    out.push(`${label(`${r.host} ${checkLabel(r)}`)}=${fields.join(';')}`);
  }
  return out;
}

/** Quoted, with `'` doubled; `=` is not allowed in a label at all. */
function label(text: string): string {
  return `'${text.replace(/=/g, '_').replace(/'/g, "''")}'`;
}

/** Plain decimal notation, at most three decimals. */
function num(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}
