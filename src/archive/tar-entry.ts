/**
 * Turns a header block plus the extended headers before it (pax `x`/`g`, GNU `L`/`K`) into one
 * archive entry. Conflicting or unsupported combinations are refused rather than guessed at.
 */
import { IntegrityError } from '../errors.ts';
import { parseDumpdir } from './tar-dumpdir.ts';
import { decodeText, paxNumber, type RawHeader } from './tar-header.ts';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** One archive member as stored (names not yet normalised or checked: see tar-path.ts). */
export interface TarEntry {
  /** Member name: pax `path`, GNU long name, `GNU.sparse.name` for sparse files, or the header's. */
  path: string;
  type: TarEntryType;
  /** Content size; the real (apparent) size for sparse files; 0 for everything but files. */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  uname: string | undefined;
  gname: string | undefined;
  /** Seconds since the epoch, with the pax fraction when present. */
  mtime: number;
  atime: number | undefined;
  /** Symlink target text, or the member a hardlink points to. */
  linkpath: string | undefined;
  devmajor: number;
  devminor: number;
  /** A GNU sparse (format 1.0) member: data arrives as extents, holes read as zeros. */
  sparse: boolean;
  /** Extended attribute names (SCHILY.xattr.*, ACLs as system.posix_acl_*), each once. */
  xattrs: string[] | undefined;
  /** Extended attributes with their values (SCHILY.xattr.*): binary ACLs, capabilities included. */
  attrs?: Array<[string, Buffer]> | undefined;
  /** POSIX ACLs in GNU tar's text form (SCHILY.acl.access / .default). */
  acl?: { access?: string; default?: string } | undefined;
  /** The name or link target is not valid UTF-8 (shown with U+FFFD). */
  nonUtf8: boolean;
  /** Stream offset of the entry's first header block (its extended headers included). */
  offset: number;
  /**
   * Directories of GNU tar `--listed-incremental` archives (pax `GNU.dumpdir`): the records of the
   * directory's contents at dump time, each a flag character then a name (see tar-dumpdir.ts).
   */
  dumpdir?: string[] | undefined;
}

/** Extended headers seen since the last entry. */
export interface PendingHeaders {
  pax?: Map<string, Buffer>;
  longName?: Buffer;
  longLink?: Buffer;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

/** Keys a global pax header must not carry: they would rename or resize every later entry. */
export const FORBIDDEN_GLOBAL = /^(path|linkpath|size|GNU\.sparse\..*)$/;
const OLD_SPARSE = /^GNU\.sparse\.(size|numblocks|offset|numbytes|map)$/;

/** Resolves an entry; `dataSize` is the number of member data bytes that follow in the archive. */
export function resolveEntry(
  h: RawHeader,
  pending: PendingHeaders,
  global: Map<string, Buffer>,
  at: number,
): { entry: TarEntry; dataSize: number } {
  const type = TYPES[h.typeflag];
  if (!type)
    throw new IntegrityError(`unsupported tar entry type ${JSON.stringify(h.typeflag)} at byte ${at}`);
  const x = pending.pax ? new Map([...global, ...pending.pax]) : global;
  if (x.has('path') && pending.longName)
    throw new IntegrityError(`conflicting long names for the entry at byte ${at}`);
  if (x.has('linkpath') && pending.longLink)
    throw new IntegrityError(`conflicting link names for the entry at byte ${at}`);
  const num = (key: string, fallback: number, fraction = false) => {
    const v = x.get(key);
    return v === undefined ? fallback : paxNumber(v, key, at, fraction);
  };
  const text = (key: string, fallback: Buffer) => decodeText(x.get(key) ?? fallback);

  let name = text('path', pending.longName ?? h.name);
  const link = text('linkpath', pending.longLink ?? h.linkname);
  const dataSize = num('size', h.size);
  let size = type === 'file' ? dataSize : 0;
  let sparse = false;
  for (const key of x.keys())
    if (OLD_SPARSE.test(key)) throw new IntegrityError(`unsupported GNU sparse format 0.x at byte ${at}`);
  if (x.has('GNU.sparse.major') || x.has('GNU.sparse.name') || x.has('GNU.sparse.realsize')) {
    const version = `${x.get('GNU.sparse.major')?.toString() ?? '?'}.${x.get('GNU.sparse.minor')?.toString() ?? '?'}`;
    const realName = x.get('GNU.sparse.name');
    if (version !== '1.0' || !realName || !x.has('GNU.sparse.realsize') || type !== 'file') {
      throw new IntegrityError(`unsupported GNU sparse member (format ${version}) at byte ${at}`);
    }
    name = decodeText(realName);
    size = num('GNU.sparse.realsize', 0);
    sparse = true;
  }

  const path = name.text;
  if (path.includes('\0') || link.text.includes('\0'))
    throw new IntegrityError(`entry name with NUL byte at byte ${at}`);
  if (type !== 'file' && dataSize !== 0) {
    throw new IntegrityError(
      `${type} entry ${JSON.stringify(path)} at byte ${at} carries ${dataSize} bytes of data`,
    );
  }
  if (type === 'file' && path.endsWith('/'))
    throw new IntegrityError(`file entry ${JSON.stringify(path)} ends with "/"`);
  const isLink = type === 'symlink' || type === 'hardlink';
  if (isLink && link.text === '')
    throw new IntegrityError(`${type} entry ${JSON.stringify(path)} has no target`);

  const names = new Set<string>();
  const attrs: Array<[string, Buffer]> = [];
  const acl: { access?: string; default?: string } = {};
  for (const [key, value] of x) {
    if (key.startsWith('SCHILY.xattr.')) {
      const name = key.slice(13).replaceAll('%3D', '=').replaceAll('%25', '%');
      names.add(name);
      attrs.push([name, value]);
    } else if (key === 'SCHILY.acl.access') {
      names.add('system.posix_acl_access');
      acl.access = value.toString('utf8');
    } else if (key === 'SCHILY.acl.default') {
      names.add('system.posix_acl_default');
      acl.default = value.toString('utf8');
    } else if (key === 'SCHILY.acl.ace') names.add('system.nfs4_acl');
  }
  const xattrs = [...names];
  const dumpdir = x.get('GNU.dumpdir');
  if (dumpdir && type !== 'dir')
    throw new IntegrityError(`${type} entry ${JSON.stringify(path)} at byte ${at} carries a dumpdir`);
  const uname = text('uname', h.uname).text;
  const gname = text('gname', h.gname).text;
  return {
    dataSize,
    entry: {
      path,
      type,
      size,
      mode: h.mode & 0o7777,
      uid: num('uid', h.uid),
      gid: num('gid', h.gid),
      uname: uname || undefined,
      gname: gname || undefined,
      mtime: num('mtime', h.mtime, true),
      atime: x.has('atime') ? num('atime', 0, true) : undefined,
      linkpath: isLink ? link.text : undefined,
      devmajor: h.devmajor,
      devminor: h.devminor,
      sparse,
      xattrs: xattrs.length > 0 ? xattrs : undefined,
      ...(attrs.length > 0 ? { attrs } : {}),
      ...(acl.access !== undefined || acl.default !== undefined ? { acl } : {}),
      nonUtf8: name.bad || (isLink && link.bad),
      offset: at,
      ...(dumpdir ? { dumpdir: parseDumpdir(dumpdir, at) } : {}),
    },
  };
}
