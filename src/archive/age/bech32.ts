/**
 * Bech32 (BIP 173) as age uses it for keys: the original checksum constant (not bech32m), no
 * 90-character limit, all-lowercase or all-uppercase. Errors are plain Errors; keys.ts turns them
 * into UsageErrors that never echo the (possibly secret) input.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const h = hrp.toLowerCase();
  const out: number[] = [];
  for (let i = 0; i < h.length; i++) out.push(h.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < h.length; i++) out.push(h.charCodeAt(i) & 31);
  return out;
}

function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = ((acc << from) | data[i]!) & 0xffffff;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from) {
    throw new Error('illegal zero padding');
  } else if ((acc << (to - bits)) & maxv) {
    throw new Error('non-zero padding');
  }
  return out;
}

/** Encodes bytes under `hrp`; an uppercase hrp gives an uppercase string (age identities). */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const lowerHrp = hrp.toLowerCase();
  if (hrp !== lowerHrp && hrp !== hrp.toUpperCase()) throw new Error('mixed-case bech32 prefix');
  const values = convertBits(data, 8, 5, true);
  const mod = polymod([...hrpExpand(lowerHrp), ...values, 0, 0, 0, 0, 0, 0]) ^ 1;
  let s = `${lowerHrp}1`;
  for (const v of values) s += CHARSET[v];
  for (let p = 0; p < 6; p++) s += CHARSET[(mod >>> (5 * (5 - p))) & 31];
  return hrp === lowerHrp ? s : s.toUpperCase();
}

/** Decodes a Bech32 string; the returned hrp keeps the input's case. Throws on any defect. */
export function bech32Decode(s: string): { hrp: string; data: Buffer } {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new Error('mixed case');
  const pos = s.lastIndexOf('1');
  if (pos < 1 || pos + 7 > s.length) throw new Error('separator "1" missing or misplaced');
  const hrp = s.slice(0, pos);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw new Error('invalid character in prefix');
  }
  const lower = s.toLowerCase();
  const values: number[] = [];
  for (let i = pos + 1; i < lower.length; i++) {
    const d = CHARSET.indexOf(lower[i]!);
    if (d === -1) throw new Error('invalid character');
    values.push(d);
  }
  if (polymod([...hrpExpand(hrp), ...values]) !== 1) throw new Error('invalid checksum');
  return { hrp, data: Buffer.from(convertBits(values.slice(0, -6), 5, 8, false)) };
}
