/**
 * One plain tar stream for restoring a backup of an incremental chain, assembled from the chain's
 * archives so the ordinary extractors (local, or the server's tar behind the guard) restore it:
 *
 *   last archive (its directory entries, which tar -g writes first and which hold every
 *   directory of the tree as it was then) ─▶ directories
 *   archive 1 … archive n (only those holding a selected file) ─▶ each selected member, renamed
 *   to its name at the restored point in time, data blocks passed through ─▶ end of archive
 *
 * Only archives that hold something selected are read, and of a seekable archive only the
 * frames that hold it (archive-members.ts). Each archive read to its end is checked against its
 * manifest's size and SHA-256 before the stream ends, so a restore never reports success on an
 * object that differs from what was committed; what is read by seeking is checked file by file.
 *
 * `seekTarStream` does the same for a standalone archive: the selected members as stored.
 */
import { Readable } from 'node:stream';
import type { AgeIdentity } from '../archive/age/index.ts';
import type { RawMember } from '../archive/tar-reader.ts';
import { END_OF_ARCHIVE, renamedHeader } from '../archive/tar-rewrite.ts';
import type { BackupRef } from '../catalog/backups.ts';
import type { ChainEntry } from '../catalog/chain-tree.ts';
import type { Storage } from '../storage/storage.ts';
import { archiveMembers, type MemberRead } from './archive-members.ts';

export interface ChainStreamOptions {
  storage: Storage;
  chain: readonly BackupRef[];
  /** The selected entries of the restored tree, by path. */
  wanted: ReadonlyMap<string, ChainEntry>;
  /** The whole restored tree: where more frames of each archive start. */
  index?: readonly ChainEntry[] | undefined;
  /** Read each archive whole (no seeking). */
  whole?: boolean;
  identities: AgeIdentity[] | undefined;
  signal: AbortSignal;
}

export function chainTarStream(o: ChainStreamOptions): Readable {
  return Readable.from(assemble(o), { objectMode: false });
}

/** The selected members of a standalone archive, byte for byte as stored, then the end of archive. */
export function seekTarStream(o: ChainStreamOptions): Readable {
  const ref = o.chain[0]!;
  const members = memberTargets(o.wanted.values());
  return Readable.from(
    (async function* () {
      for await (const ev of archiveMembers({ ...read(o, ref), members })) {
        yield ev.type === 'entry' ? ev.raw.bytes : ev.data;
      }
      yield END_OF_ARCHIVE;
    })(),
    { objectMode: false },
  );
}

async function* assemble(o: ChainStreamOptions): AsyncGenerator<Buffer> {
  const last = o.chain[o.chain.length - 1]!;
  yield* directories(o, last);
  const routes = new Map<string, Map<string, ChainEntry[]>>();
  for (const e of o.wanted.values()) {
    if (e.type === 'dir') continue;
    const byMember = routes.get(e.from) ?? new Map<string, ChainEntry[]>();
    byMember.set(e.member, [...(byMember.get(e.member) ?? []), e]);
    routes.set(e.from, byMember);
  }
  for (const b of o.chain) {
    const r = routes.get(b.id);
    if (r) yield* members(o, b, r);
  }
  yield END_OF_ARCHIVE;
}

function read(o: ChainStreamOptions, ref: BackupRef): Omit<MemberRead, 'members'> {
  const index = o.index?.filter((e) => e.from === ref.id);
  return { storage: o.storage, ref, identities: o.identities, signal: o.signal, index, whole: o.whole };
}

/** Where each member is, for reading only what is needed of a seekable archive. */
export function memberTargets(
  entries: Iterable<ChainEntry>,
): Map<string, { at: ChainEntry['at']; size: number }> {
  const out = new Map<string, { at: ChainEntry['at']; size: number }>();
  for (const e of entries) out.set(e.member, { at: e.at, size: e.size });
  return out;
}

/** The selected directories, from the start of the newest archive (read no further). */
async function* directories(o: ChainStreamOptions, b: BackupRef): AsyncGenerator<Buffer> {
  const dirs = [...o.wanted.values()].filter((e) => e.type === 'dir');
  if (dirs.length === 0) return;
  const events = archiveMembers({
    ...read(o, b),
    members: memberTargets(dirs),
    stopAt: (e) => e.type !== 'dir',
  });
  for await (const ev of events) if (ev.type === 'entry') yield renamedHeader(ev.raw, { path: ev.path });
}

/** The members of one archive that the restored tree takes from it, under their restored names. */
async function* members(
  o: ChainStreamOptions,
  b: BackupRef,
  routes: ReadonlyMap<string, ChainEntry[]>,
): AsyncGenerator<Buffer> {
  let extra: ChainEntry[] = [];
  let pending: RawMember | undefined;
  /** A member wanted under more than one name: the others become hardlinks to the first. */
  const links = function* (): Generator<Buffer> {
    for (const [i, e] of extra.entries())
      if (i > 0) yield renamedHeader(pending!, { path: e.path, hardlinkTo: extra[0]!.path });
    extra = [];
  };
  const wanted = memberTargets([...routes.values()].map((t) => t[0]!));
  for await (const ev of archiveMembers({ ...read(o, b), members: wanted })) {
    if (ev.type === 'body') {
      yield ev.data;
      continue;
    }
    yield* links();
    const targets = routes.get(ev.path)!;
    const first = targets[0]!;
    pending = ev.raw;
    yield renamedHeader(ev.raw, {
      path: first.path,
      linkpath: first.type === 'hardlink' || first.type === 'symlink' ? first.linkpath : undefined,
    });
    extra = targets;
  }
  yield* links();
}
