/** Parser for `btrfs device stats MOUNT` (btrfs-progs), sectioned per mount by the probe. Pure. */

export interface BtrfsDeviceStats {
  device: string;
  /** Mount the stats were read through. */
  mount: string;
  counters: Record<string, number>;
}

export interface BtrfsProbe {
  devices: BtrfsDeviceStats[];
  /** Mounts whose stats could not be read, with the reason. */
  failures: Array<{ mount: string; reason: string }>;
  mounts: number;
}

/** Input: "@@bo-mnt /srv" followed by that mount's `btrfs device stats` output, per mount. */
export function parseBtrfsProbe(text: string): BtrfsProbe {
  const out: BtrfsProbe = { devices: [], failures: [], mounts: 0 };
  const seen = new Map<string, BtrfsDeviceStats>();
  let mount = '';
  let lines: string[] = [];
  const flush = () => {
    if (!mount) return;
    let any = false;
    for (const l of lines) {
      const m = /^\[(.+)\]\.(\w+)\s+(\d+)$/.exec(l.trim());
      if (!m) continue;
      any = true;
      const dev = seen.get(m[1]!) ?? { device: m[1]!, mount, counters: {} };
      dev.counters[m[2]!] = Number(m[3]);
      seen.set(m[1]!, dev);
    }
    if (!any) out.failures.push({ mount, reason: lines.map((l) => l.trim()).find(Boolean) ?? 'no output' });
  };
  for (const line of text.split('\n')) {
    const m = /^@@bo-mnt (.*)$/.exec(line);
    if (m) {
      flush();
      mount = m[1]!;
      lines = [];
      out.mounts++;
    } else lines.push(line);
  }
  flush();
  out.devices = [...seen.values()];
  return out;
}
