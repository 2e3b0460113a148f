import { createHmac, timingSafeEqual } from 'node:crypto';
import { IntegrityError } from '../../errors.ts';
import { hkdf } from './primitives.ts';

/** One recipient stanza: `-> TYPE ARG…` followed by a wrapped base64 body. */
export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

/** A parsed header. `macInput` is the exact header bytes the MAC covers (up to `---`). */
export interface AgeHeader {
  stanzas: Stanza[];
  mac: Buffer;
  macInput: Buffer;
}

export const VERSION_LINE = 'age-encryption.org/v1';
const COLUMNS = 64;
const BYTES_PER_LINE = (COLUMNS / 4) * 3;
const B64_RE = /^[A-Za-z0-9+/]*$/;

/** Unpadded standard base64, as age writes it everywhere. */
export function b64encode(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64').replace(/=+$/, '');
}

/**
 * Strict unpadded base64: no padding, no whitespace, canonical trailing bits. `undefined` when
 * the text is not exactly what b64encode would produce (age forbids malleable encodings).
 */
export function b64decode(s: string): Buffer | undefined {
  if (!B64_RE.test(s) || s.length % 4 === 1) return undefined;
  const data = Buffer.from(s, 'base64');
  return b64encode(data) === s ? data : undefined;
}

export function headerError(detail: string): IntegrityError {
  return new IntegrityError(`invalid age header: ${detail}`);
}

function formatStanza(s: Stanza): string {
  const b64 = b64encode(s.body);
  let out = `-> ${[s.type, ...s.args].join(' ')}\n`;
  // Full 64-column lines, then always a final short (possibly empty) line.
  for (let i = 0; i + COLUMNS <= b64.length; i += COLUMNS) out += `${b64.slice(i, i + COLUMNS)}\n`;
  return `${out}${b64.slice(b64.length - (b64.length % COLUMNS))}\n`;
}

/** The HMAC-SHA256 that authenticates the header, keyed from the file key. */
export function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
    .update(macInput)
    .digest();
}

/** Serializes a header and its MAC (ends with the newline after the MAC). */
export function formatHeader(stanzas: Stanza[], fileKey: Uint8Array): Buffer {
  const macInput = Buffer.from(`${VERSION_LINE}\n${stanzas.map(formatStanza).join('')}---`, 'latin1');
  const mac = headerMac(fileKey, macInput);
  return Buffer.concat([macInput, Buffer.from(` ${b64encode(mac)}\n`, 'latin1')]);
}

/** Throws IntegrityError unless the header's MAC matches this file key. */
export function verifyHeaderMac(header: AgeHeader, fileKey: Uint8Array): void {
  if (!timingSafeEqual(headerMac(fileKey, header.macInput), header.mac))
    throw new IntegrityError(
      'age header authentication failed (bad header MAC): the object is corrupted or was tampered with',
    );
}

function isValidArg(a: string): boolean {
  if (a.length === 0) return false;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

/**
 * Line-by-line header state machine. Feed it each line (without its `\n`) with the byte offset
 * where the line starts; it returns the header once the `---` MAC line has been read.
 */
export function createHeaderLineParser(): (
  line: string,
  start: number,
  all: Buffer,
) => AgeHeader | undefined {
  const stanzas: Stanza[] = [];
  let current: { stanza: Stanza; parts: Buffer[] } | undefined;
  let sawVersion = false;
  return (line, start, all) => {
    if (!sawVersion) {
      if (line !== VERSION_LINE) throw headerError(`unexpected version line (expected "${VERSION_LINE}")`);
      sawVersion = true;
      return undefined;
    }
    if (current) {
      const data = b64decode(line);
      if (!data) {
        if (line.startsWith('---') || line.startsWith('->'))
          throw headerError('stanza body ended without a final short line');
        throw headerError('malformed stanza body line (not canonical unpadded base64)');
      }
      if (data.length > BYTES_PER_LINE) throw headerError('stanza body line longer than 64 columns');
      current.parts.push(data);
      if (data.length < BYTES_PER_LINE) {
        current.stanza.body = Buffer.concat(current.parts);
        current = undefined;
      }
      return undefined;
    }
    const parts = line.split(' ');
    if (line.startsWith('---')) {
      if (parts[0] !== '---' || parts.length !== 2) throw headerError('malformed MAC line');
      const mac = b64decode(parts[1]!);
      if (mac?.length !== 32) throw headerError('malformed MAC line');
      return { stanzas, mac, macInput: all.subarray(0, start + 3) };
    }
    if (!line.startsWith('->')) throw headerError('unexpected line (expected a stanza or the MAC line)');
    const args = parts.slice(1);
    if (parts[0] !== '->' || args.length === 0 || !args.every(isValidArg))
      throw headerError('malformed stanza line');
    current = { stanza: { type: args[0]!, args: args.slice(1), body: Buffer.alloc(0) }, parts: [] };
    stanzas.push(current.stanza);
    return undefined;
  };
}
