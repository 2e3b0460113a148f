const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/**
 * Parses "4GiB", "20 MiB", "500MB", "1.5TiB" or a bare number of bytes into bytes (whole bytes,
 * rounded down); undefined when malformed. IEC units (KiB, MiB …) are powers of 1024, SI units
 * (kB, MB …) powers of 1000; case does not matter.
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

/** Parses a rate such as "20MiB/s" (or "20MiB") into bytes per second; undefined when malformed. */
export function parseRate(text: string): number | undefined {
  const t = text.trim();
  return parseSize(t.endsWith('/s') ? t.slice(0, -2) : t);
}
