/** Parsers for small /proc files and nproc. Pure. */

export interface LoadAvg {
  cores: number;
  load1: number;
  load5: number;
  load15: number;
}

/** `nproc; cat /proc/loadavg` → "2\n0.75 0.61 0.36 1/98 21978". */
export function parseLoad(text: string): LoadAvg | undefined {
  const lines = text.trim().split('\n');
  const cores = Number(lines[0]);
  const f = (lines[1] ?? '').trim().split(/\s+/).map(Number);
  if (
    !Number.isInteger(cores) ||
    cores < 1 ||
    f.length < 3 ||
    f.slice(0, 3).some((n) => !Number.isFinite(n))
  ) {
    return undefined;
  }
  return { cores, load1: f[0]!, load5: f[1]!, load15: f[2]! };
}

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
}

/** /proc/meminfo; MemAvailable exists since Linux 3.14, older kernels get free + buffers + cache. */
export function parseMeminfo(text: string): MemInfo | undefined {
  const kb = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+(?:\(\w+\))?):\s+(\d+)(?: kB)?$/gm)) kb.set(m[1]!, Number(m[2]) * 1024);
  const total = kb.get('MemTotal');
  if (total === undefined) return undefined;
  const available =
    kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return {
    totalBytes: total,
    availableBytes: available,
    swapTotalBytes: kb.get('SwapTotal') ?? 0,
    swapFreeBytes: kb.get('SwapFree') ?? 0,
  };
}

/** /proc/uptime → seconds since boot. */
export function parseUptime(text: string): number | undefined {
  const s = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}
