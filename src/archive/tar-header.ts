/**
 * Decoding of single tar structures: the 512-byte ustar header block and pax extended-header
 * records. Strict on purpose: anything ambiguous is an IntegrityError, because a header that two
 * tar implementations read differently is how malicious archives smuggle entries past checks.
 */
import { isUtf8 } from 'node:buffer';
import { IntegrityError } from '../errors.ts';

export const BLOCK = 512;

/** One ustar header block, fields as stored (extended headers are applied by the reader). */
export interface RawHeader {
  /** prefix + "/" + name for POSIX ustar, name alone otherwise; raw bytes. */
  name: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: Buffer;
  uname: Buffer;
  gname: Buffer;
  devmajor: number;
  devminor: number;
}

export function isZeroBlock(buf: Buffer, off: number): boolean {
  for (let i = off; i < off + BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Decodes the block at `buf[off..off+512]`; `at` is its stream offset, for messages. */
export function decodeHeader(buf: Buffer, off: number, at: number): RawHeader {
  const field = (start: number, len: number) => cstring(buf, off + start, len);
  const num = (start: number, len: number, name: string) => decodeNumber(buf, off + start, len, name, at);
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = buf[off + i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const stored = num(148, 8, 'checksum');
  if (stored !== unsigned && stored !== signed)
    throw new IntegrityError(`corrupt tar header at byte ${at}: bad checksum`);
  const magic = buf.toString('latin1', off + 257, off + 263);
  if (magic !== 'ustar\0' && magic !== 'ustar ') {
    throw new IntegrityError(`corrupt tar header at byte ${at}: not a ustar header`);
  }
  let name = field(0, 100);
  const prefix = magic === 'ustar\0' ? field(345, 155) : Buffer.alloc(0);
  if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
  return {
    name,
    mode: num(100, 8, 'mode'),
    uid: num(108, 8, 'uid'),
    gid: num(116, 8, 'gid'),
    size: num(124, 12, 'size'),
    mtime: num(136, 12, 'mtime'),
    typeflag: String.fromCharCode(buf[off + 156]!),
    linkname: field(157, 100),
    uname: field(265, 32),
    gname: field(297, 32),
    devmajor: num(329, 8, 'devmajor'),
    devminor: num(337, 8, 'devminor'),
  };
}

function cstring(buf: Buffer, start: number, len: number): Buffer {
  const end = buf.indexOf(0, start);
  return buf.subarray(start, end === -1 || end > start + len ? start + len : end);
}

/** Octal (NUL/space terminated) or GNU base-256 (high bit set) numeric field. */
function decodeNumber(buf: Buffer, start: number, len: number, name: string, at: number): number {
  const first = buf[start]!;
  if (first & 0x80) {
    // Big-endian two's complement; 0x80 marks a positive value, 0xff a negative one.
    const negative = first === 0xff;
    let v = 0;
    for (let i = start; i < start + len; i++) {
      const b = i === start && !negative ? buf[i]! & 0x7f : buf[i]!;
      v = v * 256 + (negative ? 255 - b : b);
    }
    if (negative) v = -(v + 1);
    if (!Number.isSafeInteger(v))
      throw new IntegrityError(`corrupt tar header at byte ${at}: ${name} out of range`);
    return v;
  }
  const text = buf
    .toString('latin1', start, start + len)
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new IntegrityError(`corrupt tar header at byte ${at}: invalid ${name} field`);
  return Number.parseInt(text, 8);
}

/**
 * Parses pax records (`<len> <key>=<value>\n`) by their length prefix, never by splitting on
 * newlines: values (file names, xattrs) may contain any byte. Later records win, as in POSIX.
 */
export function parsePax(body: Buffer, at: number): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0 && body.subarray(pos).every((b) => b === 0)) break;
    const space = body.indexOf(0x20, pos);
    const digits = space === -1 ? '' : body.toString('latin1', pos, space);
    const len = /^[0-9]{1,12}$/.test(digits) ? Number(digits) : 0;
    const end = pos + len;
    if (len === 0 || end > body.length || end <= space + 1 || body[end - 1] !== 0x0a) {
      throw new IntegrityError(`malformed pax extended header at byte ${at}`);
    }
    const eq = body.indexOf(0x3d, space + 1);
    if (eq === -1 || eq >= end - 1) throw new IntegrityError(`malformed pax extended header at byte ${at}`);
    out.set(body.toString('utf8', space + 1, eq), body.subarray(eq + 1, end - 1));
    pos = end;
  }
  return out;
}

/** UTF-8 text of a name; `bad` when the bytes are not valid UTF-8 (the text then has U+FFFD). */
export function decodeText(bytes: Buffer): { text: string; bad: boolean } {
  const text = bytes.toString('utf8');
  return { text, bad: text.includes('\uFFFD') && !isUtf8(bytes) };
}

/** Decimal value of a pax number record (sizes, ids: integers; times: may have a fraction). */
export function paxNumber(v: Buffer, key: string, at: number, fraction = false): number {
  const s = v.toString('latin1');
  const ok = fraction ? /^-?[0-9]{1,20}(\.[0-9]{0,20})?$/.test(s) : /^[0-9]{1,20}$/.test(s);
  const n = Number(s);
  if (!ok || !Number.isFinite(n) || (!fraction && !Number.isSafeInteger(n))) {
    throw new IntegrityError(`invalid pax ${key} value at byte ${at}`);
  }
  return n;
}
