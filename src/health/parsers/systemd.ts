/** Parsers for systemctl and timedatectl output. Pure. */

export interface FailedUnit {
  unit: string;
  load: string;
  active: string;
  sub: string;
  description: string;
}

/**
 * `systemctl list-units --failed --plain --no-legend --full` (one unit per line: UNIT LOAD ACTIVE
 * SUB DESCRIPTION); older versions prefix a "●" even with --plain. JSON (`--output=json`, systemd
 * 246+) is accepted as well.
 */
export function parseFailedUnits(text: string): FailedUnit[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    const rows = JSON.parse(t) as Array<Record<string, string>>;
    return rows.map((r) => ({
      unit: r.unit ?? '',
      load: r.load ?? '',
      active: r.active ?? '',
      sub: r.sub ?? '',
      description: r.description ?? '',
    }));
  }
  const units: FailedUnit[] = [];
  for (const raw of t.split('\n')) {
    const line = raw.replace(/^[\s●*]+/, '').trim();
    if (!line || /^\d+ loaded units? listed/.test(line) || line.startsWith('UNIT ')) continue;
    const [unit, load = '', active = '', sub = '', ...desc] = line.split(/\s+/);
    if (!unit?.includes('.')) continue;
    units.push({ unit, load, active, sub, description: desc.join(' ') });
  }
  return units;
}

/** `systemctl is-active A B …` prints one state per unit, in order. */
export function parseIsActive(
  units: readonly string[],
  text: string,
): Array<{ unit: string; state: string }> {
  const states = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return units.map((unit, i) => ({ unit, state: states[i] ?? 'unknown' }));
}

/** `timedatectl show` → KEY=VALUE properties. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^(\w+)=(.*)$/gm)) out[m[1]!] = m[2]!.trim();
  return out;
}

/** `chronyc -n tracking`: synchronised unless "Leap status : Not synchronised". */
export function parseChronyTracking(text: string): { synced: boolean; offsetSeconds?: number } | undefined {
  const leap = /^Leap status\s*:\s*(.+)$/m.exec(text);
  if (!leap) return undefined;
  const r: { synced: boolean; offsetSeconds?: number } = { synced: !/not synchroni[sz]ed/i.test(leap[1]!) };
  const off = /^System time\s*:\s*([\d.]+) seconds (fast|slow)/m.exec(text);
  if (off) r.offsetSeconds = Number(off[1]) * (off[2] === 'fast' ? 1 : -1);
  return r;
}
