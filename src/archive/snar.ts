/**
 * GNU tar's incremental snapshot file (`--listed-incremental=FILE`, format 2): a first line
 * `GNU tar-<version>-2\n`, the dump's start time as `seconds\0nanoseconds\0`, then one record per
 * directory: `nfs\0 mtime-s\0 mtime-ns\0 device\0 inode\0 name\0`, its dumpdir records (each
 * `\0`-terminated), an empty record and a `\0` terminator. bo keeps the file of a job's newest
 * backup in its state directory and hands it to the server's tar for the next incremental, after
 * two changes (`prepareSnar`):
 *
 * - The start time moves back by a margin. tar archives a file in the next incremental when its
 *   mtime or ctime is newer than that time, but the kernel stamps files with a coarse clock (up
 *   to a tick behind the clock tar reads), so a file changed just after the dump started can
 *   carry an older ctime and, if tar had read it before the change, would never be archived
 *   again. With the margin such files are archived twice instead of never.
 * - Device numbers are cleared (tar runs with `--no-check-device`). A directory is still matched
 *   by name and inode, so unchanged ones stay incremental, also from snapshots whose device
 *   changes every run; but tar can no longer recognise a renamed directory by its inode, so it
 *   archives it again as new instead of writing rename records. Stock `tar -x -g` fails on some
 *   rename records (a directory moved into a renamed one, a directory replacing a file: "Cannot
 *   rename"), which would break the restore-with-stock-tools promise.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.ts';

/** How far the start time is moved back (covers coarse clocks and 1 s filesystem timestamps). */
export const SNAR_MARGIN_S = 2;

const HEAD = /^GNU tar-[^\n]*-2\n(-?[0-9]+)\0([0-9]+)\0/;
const MAX_TOKEN = 1024 * 1024;

/** Fields of a directory record, in order; after `name` come dumpdir records until an empty one. */
const FIELDS = ['nfs', 'mtime', 'mtimeNs', 'device', 'inode', 'name'] as const;

export interface SnarHead {
  version: string;
  seconds: number;
  nanoseconds: number;
  /** Bytes the head takes at the start of the file. */
  length: number;
}

/** The head of a snapshot file, or undefined when `buf` does not start with a complete one. */
export function parseSnarHead(buf: Buffer): SnarHead | undefined {
  const m = HEAD.exec(buf.subarray(0, 256).toString('latin1'));
  if (!m) return undefined;
  return {
    version: m[0].slice(0, m[0].indexOf('\n')),
    seconds: Number(m[1]),
    nanoseconds: Number(m[2]),
    length: Buffer.byteLength(m[0], 'latin1'),
  };
}

/**
 * Passes a snapshot file through, backdated by `margin` seconds and with device numbers cleared
 * (see the file comment). Rejects anything that is not a well-formed format-2 snapshot file.
 */
export function prepareSnar(
  opts: {
    margin?: number;
    /** Renames each directory record (member names as tar read them ↔ as archived). */
    rename?: ((name: string) => string) | undefined;
  } = {},
): Transform {
  const margin = opts.margin ?? SNAR_MARGIN_S;
  let head: Buffer | undefined = Buffer.alloc(0);
  let token: Buffer[] = [];
  let tokenLength = 0;
  /** Position in a record: index into FIELDS, then 'dumpdir', then 'end' (the terminator). */
  let field: number | 'dumpdir' | 'end' = 0;

  function onToken(t: Buffer[], bytes: Buffer): void {
    if (field === 'end') {
      if (bytes.length !== 0) throw new IntegrityError('snapshot file: missing record terminator');
      field = 0;
      t.push(Buffer.from([0]));
      return;
    }
    if (field === 'dumpdir') {
      if (bytes.length === 0) field = 'end';
      t.push(bytes);
      t.push(Buffer.from([0]));
      return;
    }
    const name = FIELDS[field];
    if (name !== 'name' && !/^-?[0-9]+$/.test(bytes.toString('latin1')))
      throw new IntegrityError(`snapshot file: invalid ${name} field`);
    const out =
      name === 'device'
        ? Buffer.from('0')
        : name === 'name' && opts.rename
          ? Buffer.from(opts.rename(bytes.toString('utf8')))
          : bytes;
    t.push(out);
    t.push(Buffer.from([0]));
    field = name === 'name' ? 'dumpdir' : field + 1;
  }

  function body(t: Buffer[], chunk: Buffer): void {
    let start = 0;
    for (let nul = chunk.indexOf(0, start); nul !== -1; nul = chunk.indexOf(0, start)) {
      const part = chunk.subarray(start, nul);
      const bytes = token.length ? Buffer.concat([...token, part]) : part;
      token = [];
      tokenLength = 0;
      onToken(t, bytes);
      start = nul + 1;
    }
    if (start < chunk.length) {
      token.push(Buffer.from(chunk.subarray(start)));
      tokenLength += chunk.length - start;
      if (tokenLength > MAX_TOKEN) throw new IntegrityError('snapshot file: record field too long');
    }
  }

  function flushHead(t: Buffer[]): void {
    const h = parseSnarHead(head!);
    if (!h) throw new IntegrityError('not a GNU tar incremental snapshot file (format 2)');
    t.push(Buffer.from(`${h.version}\n${h.seconds - margin}\0${h.nanoseconds}\0`, 'latin1'));
    const rest = head!.subarray(h.length);
    head = undefined;
    body(t, rest);
  }

  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      // One output chunk per input chunk: a push per field made a 5 MB file 200,000 tiny writes.
      const out: Buffer[] = [];
      try {
        if (!head) body(out, chunk);
        else {
          head = Buffer.concat([head, chunk]);
          if (head.length >= 256 || parseSnarHead(head)) flushHead(out);
        }
        cb(null, Buffer.concat(out));
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      const out: Buffer[] = [];
      try {
        if (head) flushHead(out);
        if (tokenLength > 0 || field !== 0) throw new IntegrityError('snapshot file truncated');
        cb(null, Buffer.concat(out));
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
