import { BoError, IntegrityError } from '../../errors.ts';
import { type AgeHeader, createHeaderLineParser, headerError, VERSION_LINE } from './header.ts';

/** Headers are a few hundred bytes per recipient; anything bigger is not a header we wrote. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

const INTRO = Buffer.from(`${VERSION_LINE}\n`, 'latin1');
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';

export interface HeaderReader {
  /** Feeds bytes; returns the header and the bytes after it once the MAC line is complete. */
  push(data: Buffer): { header: AgeHeader; rest: Buffer } | undefined;
  /** The input ended before the header did: throws IntegrityError. */
  end(): never;
}

/** Checks the first bytes so a non-age (or armored) input fails at once, not after 16 MiB. */
function checkIntro(buf: Buffer): 'ok' | 'wait' {
  const n = Math.min(buf.length, INTRO.length);
  if (buf.subarray(0, n).equals(INTRO.subarray(0, n))) return n === INTRO.length ? 'ok' : 'wait';
  const text = buf.subarray(0, 1024).toString('latin1').trimStart();
  if (text.length >= ARMOR_BEGIN.length ? text.startsWith(ARMOR_BEGIN) : ARMOR_BEGIN.startsWith(text)) {
    if (text.length >= ARMOR_BEGIN.length)
      throw new BoError(
        'armored age files are not supported: remove the ASCII armor or decrypt with `age -d`',
      );
    if (buf.length < 1024) return 'wait'; // leading whitespace or a partial BEGIN line so far
  }
  if (text.startsWith('age-encryption.org/'))
    throw headerError(`unsupported age format version (only ${VERSION_LINE} is supported)`);
  throw headerError(`not an age file (it does not start with "${VERSION_LINE}")`);
}

export function createHeaderReader(): HeaderReader {
  let buf: Buffer = Buffer.alloc(0);
  let scanned = 0; // start of the first line not yet parsed
  let introOk = false;
  const parseLine = createHeaderLineParser();
  return {
    push(data) {
      buf = buf.length === 0 ? data : Buffer.concat([buf, data]);
      if (!introOk) {
        if (checkIntro(buf) === 'wait') return undefined;
        introOk = true;
      }
      for (;;) {
        const nl = buf.indexOf(10, scanned);
        if (nl === -1) break;
        const header = parseLine(buf.toString('latin1', scanned, nl), scanned, buf);
        scanned = nl + 1;
        if (header) {
          // Copy the MAC input so the caller's chunk is not pinned by the header.
          header.macInput = Buffer.from(header.macInput);
          return { header, rest: buf.subarray(scanned) };
        }
      }
      if (buf.length > MAX_HEADER_BYTES)
        throw headerError(`header longer than ${MAX_HEADER_BYTES} bytes (not an age file?)`);
      return undefined;
    },
    end() {
      if (buf.length === 0) throw new IntegrityError('invalid age header: the file is empty');
      if (!introOk) checkIntro(buf);
      throw new IntegrityError('age file is truncated: it ends inside the header');
    },
  };
}
