/** Parser for `smartctl -H` output and exit status (smartmontools 6.x/7.x). Pure. */

export type SmartHealth = 'passed' | 'failed' | 'unavailable' | 'denied' | 'unknown';

export interface SmartVerdict {
  health: SmartHealth;
  /** The line that decided it, or the reason it could not be decided. */
  detail: string;
}

/** One device's section of the probe: "@@bo-dev /dev/sda" … "@@bo-dev-rc 0". */
export interface SmartDeviceOutput {
  device: string;
  code: number | null;
  output: string;
}

export function splitSmartDevices(text: string): SmartDeviceOutput[] {
  const out: SmartDeviceOutput[] = [];
  let cur: SmartDeviceOutput | undefined;
  for (const line of text.split('\n')) {
    const dev = /^@@bo-dev (.+)$/.exec(line);
    if (dev) {
      cur = { device: dev[1]!.trim(), code: null, output: '' };
      out.push(cur);
      continue;
    }
    const rc = /^@@bo-dev-rc (\d+)$/.exec(line);
    if (rc && cur) {
      cur.code = Number(rc[1]);
      cur = undefined;
      continue;
    }
    if (cur) cur.output += `${line}\n`;
  }
  return out;
}

/**
 * The exit status is a bit mask (smartctl(8)): bit 1 = the device could not be opened, bit 3 =
 * "disk failing", bit 4 = pre-failure attributes at or below threshold.
 */
export function smartVerdict(output: string, code: number | null): SmartVerdict {
  const ata = /SMART overall-health self-assessment test result:\s*(\S+)/.exec(output);
  const scsi = /SMART Health Status:\s*(.+)/.exec(output);
  if (ata) {
    const passed = ata[1]!.replace(/!$/, '') === 'PASSED';
    return { health: passed && !failingBit(code) ? 'passed' : 'failed', detail: ata[0].trim() };
  }
  if (scsi) {
    const ok = scsi[1]!.trim() === 'OK';
    return { health: ok && !failingBit(code) ? 'passed' : 'failed', detail: scsi[0].trim() };
  }
  if (code !== null && code & 8) return { health: 'failed', detail: 'smartctl reports the disk is failing' };
  if (/Permission denied|Operation not permitted/i.test(output)) {
    return { health: 'denied', detail: 'permission denied (smartctl needs root: set sudo on the host)' };
  }
  const lacks =
    /SMART support is:\s*Unavailable[^\n]*|lacks SMART capability|Unable to detect device type/i.exec(output);
  if (lacks) return { health: 'unavailable', detail: lacks[0].trim() };
  const err = output
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !/^smartctl \d|^Copyright|^===|^$/.test(l));
  return { health: 'unknown', detail: err ?? `smartctl exit status ${code}` };
}

function failingBit(code: number | null): boolean {
  return code !== null && (code & 8) !== 0;
}
