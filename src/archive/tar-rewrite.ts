/**
 * Re-emits an archive member under another name: a new pax extended header (the member's own and
 * global records, with `path`/`linkpath`, or `GNU.sparse.name` for sparse files, replaced) and
 * the original header block with its name fields cleared; the member's data blocks then follow
 * unchanged (TarReader's raw mode hands them out). Used to assemble one plain tar stream from
 * the archives of an incremental chain, every file under its name at the restored point in time.
 */
import { FORBIDDEN_GLOBAL } from './tar-entry.ts';
import { BLOCK } from './tar-header.ts';
import type { RawMember } from './tar-reader.ts';

/** Records never carried over: they describe the member's old name or its incremental bookkeeping. */
const DROPPED = new Set(['path', 'linkpath', 'GNU.dumpdir']);

/**
 * The header blocks of `raw` renamed to `path` (with `linkpath` for links). With `hardlinkTo`
 * the member becomes a hardlink to that name, with no data (its data blocks must not follow).
 */
export function renamedHeader(
  raw: RawMember,
  opts: { path: string; linkpath?: string | undefined; hardlinkTo?: string | undefined },
): Buffer {
  const records = new Map<string, Buffer>();
  for (const [k, v] of raw.global) if (!FORBIDDEN_GLOBAL.test(k) && !DROPPED.has(k)) records.set(k, v);
  for (const [k, v] of raw.pax ?? []) if (!DROPPED.has(k)) records.set(k, v);
  const header = Buffer.from(raw.header);
  header.fill(0, 0, 100); // name
  header.fill(0, 157, 257); // linkname
  header.fill(0, 345, 500); // ustar prefix
  const sparse = records.has('GNU.sparse.name');
  if (opts.hardlinkTo !== undefined) {
    for (const k of [...records.keys()]) if (k.startsWith('GNU.sparse.') || k === 'size') records.delete(k);
    records.set('path', Buffer.from(opts.path));
    records.set('linkpath', Buffer.from(opts.hardlinkTo));
    header[156] = '1'.charCodeAt(0);
    header.write('00000000000\0', 124, 'latin1'); // size
  } else if (sparse) {
    records.set('GNU.sparse.name', Buffer.from(opts.path));
    records.set('path', Buffer.from(`./GNUSparseFile.0/${opts.path.slice(opts.path.lastIndexOf('/') + 1)}`));
  } else {
    records.set('path', Buffer.from(opts.path));
    if (opts.linkpath !== undefined) records.set('linkpath', Buffer.from(opts.linkpath));
  }
  header.write(asciiName(opts.path), 0, 'latin1');
  checksum(header);
  return Buffer.concat([paxHeader(records), header]);
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** A name for the header's own field (readers use the pax `path`): ASCII, at most 99 bytes. */
function asciiName(path: string): string {
  return path.replace(/[^\x20-\x7e]/g, '_').slice(0, 99);
}

function paxHeader(records: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) parts.push(paxRecord(key, value));
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(BLOCK);
  header.write('PaxHeader', 0, 'latin1');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header[156] = 'x'.charCodeAt(0);
  header.write('ustar\x0000', 257, 'latin1');
  checksum(header);
  const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
  return Buffer.concat([header, body, Buffer.alloc(pad)]);
}

/** `<len> <key>=<value>\n`, where len counts the whole record including its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(key) + value.length + 3; // space, '=', '\n'
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function checksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += header[i]!;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}
